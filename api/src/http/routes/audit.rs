//! The audit log over HTTPS:
//!
//! * `GET /api/v1/projects/{projectId}/audit-logs` — one project's audit
//!   records, newest first, filtered, paged: `{auditLogs, totalCount}`
//!   (`audit-log:read`);
//! * `GET /api/v1/projects/{projectId}/audit-logs/export` — the same
//!   filters, oldest first, streamed as JSON lines
//!   (`application/x-ndjson`, one record per line; `afterSeq` resumes an
//!   earlier export), in pages, so memory stays constant however long the
//!   log (`audit-log:read`);
//! * `GET /api/v1/audit-logs/verify` — verifies the whole hash chain
//!   against its authenticated head (the install's super admin only; see
//!   [`verify`]).
//!
//! Filters (query parameters; unknown ones are refused like unknown body
//! fields):
//!
//! | parameter | matches |
//! |---|---|
//! | `actor` | the actor exactly (`identity:<id>`, `kmip:<client>`, `system`); a bare identity id means `identity:<id>` |
//! | `action` | the action exactly (`transit.encrypt`), or every action starting with a prefix when it ends in `*` (`transit.*`) |
//! | `keyId` | the object acted on: a named key's id, a managed object's id, or `kind/key` of a record |
//! | `startDate`, `endDate` | `startDate ≤ time < endDate`; RFC 3339 (`2026-12-07T08:00:00Z`) or a UTC date (`2026-12-07`) |
//! | `offset`, `limit` | paging of the list: `limit` 1–1,000 (default 100), `offset` at most 1,000,000 |
//!
//! Stable error codes (400): `invalid_request` (a malformed, out-of-range
//! or unknown parameter, as for request bodies), `invalid_date` (a date
//! that does not parse), `invalid_date_range` (`startDate` after
//! `endDate`).
//!
//! A project's log holds the events whose project is that project: its
//! creation, its members and roles (`record.put`/`record.delete` of
//! `api-membership/…`, `api-role/…`), its keys' lifecycle and every use
//! (`transit.*`, `object.*`, `key.*`). Install-wide events (organizations,
//! identities) belong to no customer project and are only in the chain.
//! Key-use records are queued; a query first waits for the queue, so a use
//! that was just answered is listed.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kms_core::audit::{AuditError, AuditRecord};
use kms_core::ids::ProjectId;
use kms_core::service::Kms;
use kms_core::store::{ActionFilter, AuditQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::auth::{Action, Caller, Permission, Resource};
use crate::http::error::ErrorBody;
use crate::http::json::{ApiJson, ApiPath, ApiQuery};
use crate::http::{ApiError, AppState};

/// The largest page of the list.
pub const MAX_LIMIT: u64 = 1_000;
/// The list's page size when `limit` is absent.
pub const DEFAULT_LIMIT: u64 = 100;
/// The largest `offset` (deeper history: narrow by date, or export).
pub const MAX_OFFSET: u64 = 1_000_000;
/// Rows per database read of an export.
const EXPORT_PAGE: u64 = 1_000;
/// The longest `actor`, `action` or `keyId` accepted.
const MAX_FILTER_LEN: usize = 256;

/// The filters both the list and the export take.
#[derive(Deserialize, IntoParams, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditFilters {
    /// `identity:<id>`, `kmip:<client>`, `system`, or a bare identity id.
    pub actor: Option<String>,
    /// An action (`transit.encrypt`) or a prefix ending in `*` (`transit.*`).
    pub action: Option<String>,
    /// The object acted on (a key id).
    pub key_id: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD` (UTC); inclusive.
    pub start_date: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD` (UTC); exclusive.
    pub end_date: Option<String>,
    /// List: records to skip (at most 1,000,000).
    pub offset: Option<u64>,
    /// List: 1–1,000 (default 100). Export: stop after this many (default: all).
    pub limit: Option<u64>,
    /// Export only: records with a sequence number above this one (resume).
    pub after_seq: Option<i64>,
}

/// One audit record.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditLogView {
    /// Position in the install's hash chain (gaps are other projects' records).
    pub seq: i64,
    /// RFC 3339, UTC, microseconds.
    pub timestamp: String,
    pub actor: String,
    pub action: String,
    /// The object acted on (a key id, an object id, `kind/key` of a record).
    pub object_id: Option<String>,
    pub project_id: Option<String>,
    /// `success`, or the failure's reason code.
    pub result: String,
    /// The caller's network address, when known.
    pub source: Option<String>,
    /// This record's chain hash, hex.
    pub hash: String,
    /// The previous record's chain hash, hex.
    pub prev_hash: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditLogsResponse {
    pub audit_logs: Vec<AuditLogView>,
    /// How many records match the filters (ignoring offset and limit).
    pub total_count: u64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyResponse {
    /// Whether every record hashes, links and ends at the authenticated head.
    pub valid: bool,
    /// Records verified (the whole chain) when valid.
    pub records: Option<i64>,
    /// The first record that fails, when one does.
    pub first_bad_record: Option<i64>,
    /// Why the chain is not valid: `record_altered`, `broken_link`,
    /// `wrong_sequence`, `head_not_authentic`, `head_mismatch`.
    pub reason: Option<String>,
    /// The failure, for people.
    pub message: Option<String>,
}

fn view(r: &AuditRecord) -> AuditLogView {
    let e = &r.event;
    AuditLogView {
        seq: r.seq,
        timestamp: timestamp(e.time_us),
        actor: e.actor.clone(),
        action: e.action.clone(),
        object_id: e.object.clone(),
        project_id: e.project.clone(),
        result: e.result.clone(),
        source: e.source.clone(),
        hash: hex::encode(r.hash),
        prev_hash: hex::encode(r.prev_hash),
    }
}

fn timestamp(micros: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| micros.to_string())
}

/// A `startDate`/`endDate` value in Unix microseconds.
fn parse_date(name: &str, value: &str) -> Result<i64, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "invalid_date",
            format!("{name}: use RFC 3339 (2026-12-07T08:00:00Z) or a UTC date (2026-12-07)"),
        )
    };
    if value.len() > 64 {
        return Err(bad());
    }
    let at =
        match time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339) {
            Ok(t) => t,
            Err(_) => {
                let format = time::macros::format_description!("[year]-[month]-[day]");
                time::Date::parse(value, &format)
                    .map_err(|_| bad())?
                    .midnight()
                    .assume_utc()
            }
        };
    i64::try_from(at.unix_timestamp_nanos() / 1_000).map_err(|_| bad())
}

fn check_text(name: &str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() || value.len() > MAX_FILTER_LEN || value.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_request",
            format!("{name}: 1 to {MAX_FILTER_LEN} printable characters"),
        ));
    }
    Ok(())
}

/// The store query for `filters` in `project` (list order and paging are
/// set by the caller).
fn query_of(project: ProjectId, f: &AuditFilters) -> Result<AuditQuery, ApiError> {
    let mut q = AuditQuery::project(project);
    if let Some(actor) = &f.actor {
        check_text("actor", actor)?;
        q.actor = Some(match Uuid::parse_str(actor) {
            Ok(id) => format!("identity:{id}"),
            Err(_) => actor.clone(),
        });
    }
    if let Some(action) = &f.action {
        check_text("action", action)?;
        let prefix = action.strip_suffix('*');
        if prefix.unwrap_or(action).contains('*') {
            return Err(ApiError::bad_request(
                "invalid_request",
                "action: `*` is allowed only at the end",
            ));
        }
        q.action = Some(match prefix {
            Some(prefix) => ActionFilter::Prefix(prefix.to_owned()),
            None => ActionFilter::Exact(action.clone()),
        });
    }
    if let Some(key) = &f.key_id {
        check_text("keyId", key)?;
        // Ids are stored hyphenated and lower-case.
        q.object = Some(match Uuid::parse_str(key) {
            Ok(id) => id.to_string(),
            Err(_) => key.clone(),
        });
    }
    q.from_us = f
        .start_date
        .as_deref()
        .map(|v| parse_date("startDate", v))
        .transpose()?;
    q.to_us = f
        .end_date
        .as_deref()
        .map(|v| parse_date("endDate", v))
        .transpose()?;
    if let (Some(from), Some(to)) = (q.from_us, q.to_us)
        && from > to
    {
        return Err(ApiError::bad_request(
            "invalid_date_range",
            "startDate is after endDate",
        ));
    }
    Ok(q)
}

async fn readable(
    state: &AppState,
    caller: &Caller,
    project_id: Uuid,
) -> Result<ProjectId, ApiError> {
    let project = ProjectId::from_uuid(project_id);
    caller
        .authorize(
            state,
            project,
            Permission::new(Resource::AuditLog, Action::Read),
        )
        .await?;
    Ok(project)
}

/// The project's audit records, newest first.
#[utoipa::path(get, path = "/api/v1/projects/{projectId}/audit-logs", tag = "audit",
    params(("projectId" = Uuid, Path), AuditFilters),
    responses((status = 200, body = AuditLogsResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project_id): ApiPath<Uuid>,
    ApiQuery(filters): ApiQuery<AuditFilters>,
) -> Result<ApiJson<AuditLogsResponse>, ApiError> {
    let project = readable(&state, &caller, project_id).await?;
    let mut query = query_of(project, &filters)?;
    if filters.after_seq.is_some() {
        return Err(ApiError::bad_request(
            "invalid_request",
            "afterSeq is for the export; the list pages with offset",
        ));
    }
    let limit = filters.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_request",
            format!("limit: 1 to {MAX_LIMIT}"),
        ));
    }
    let offset = filters.offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(ApiError::bad_request(
            "invalid_request",
            format!("offset: at most {MAX_OFFSET}; narrow the dates or use the export"),
        ));
    }
    query.limit = limit;
    query.offset = offset;
    query.newest_first = true;
    let (records, total_count) = state.kms.query_audit(&query).await?;
    Ok(ApiJson(AuditLogsResponse {
        audit_logs: records.iter().map(view).collect(),
        total_count,
    }))
}

/// Where an export stands between pages.
struct Export {
    kms: Kms,
    query: AuditQuery,
    /// Records still to send (`None`: all).
    remaining: Option<u64>,
    done: bool,
}

impl Export {
    async fn next_page(mut self) -> Option<(Result<Bytes, std::io::Error>, Self)> {
        if self.done {
            return None;
        }
        let want = match self.remaining {
            Some(0) => return None,
            Some(n) => n.min(EXPORT_PAGE),
            None => EXPORT_PAGE,
        };
        self.query.limit = want;
        let page = match self.kms.audit_page(&self.query).await {
            Ok(page) => page,
            Err(e) => {
                // The status line is gone: end the body with an error, so
                // the client sees a broken transfer, never a short file.
                tracing::error!(error = %e, "audit export: reading a page");
                self.done = true;
                return Some((Err(std::io::Error::other("audit export failed")), self));
            }
        };
        let mut out = Vec::with_capacity(page.len() * 320);
        for record in &page {
            if serde_json::to_writer(&mut out, &view(record)).is_err() {
                self.done = true;
                return Some((Err(std::io::Error::other("audit export failed")), self));
            }
            out.push(b'\n');
        }
        if let Some(last) = page.last() {
            self.query.after_seq = Some(last.seq);
        }
        let got = page.len() as u64;
        if let Some(n) = self.remaining.as_mut() {
            *n = n.saturating_sub(got);
        }
        if got < want {
            self.done = true;
            if got == 0 {
                return None;
            }
        }
        Some((Ok(Bytes::from(out)), self))
    }
}

/// The project's audit records matching the filters, oldest first, as JSON
/// lines (one `AuditLogView` per line), streamed.
#[utoipa::path(get, path = "/api/v1/projects/{projectId}/audit-logs/export", tag = "audit",
    params(("projectId" = Uuid, Path), AuditFilters),
    responses((status = 200, content_type = "application/x-ndjson", body = AuditLogView,
               description = "One record per line, oldest first"),
              (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project_id): ApiPath<Uuid>,
    ApiQuery(filters): ApiQuery<AuditFilters>,
) -> Result<Response, ApiError> {
    let project = readable(&state, &caller, project_id).await?;
    let mut query = query_of(project, &filters)?;
    if filters.offset.is_some() {
        return Err(ApiError::bad_request(
            "invalid_request",
            "the export resumes with afterSeq, not offset",
        ));
    }
    if filters.limit == Some(0) {
        return Err(ApiError::bad_request(
            "invalid_request",
            "limit: at least 1",
        ));
    }
    query.after_seq = filters.after_seq;
    query.newest_first = false;
    // Everything answered before the export started is in it.
    state.kms.flush_audit().await?;
    let export = Export {
        kms: state.kms.clone(),
        query,
        remaining: filters.limit,
        done: false,
    };
    let stream = futures_util::stream::unfold(export, Export::next_page);
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Verifies the install's whole audit chain.
///
/// **Who may.** Only the install's super admin. The chain is one for the
/// whole install, across every organization and project: verifying it
/// reads every record and answers with install-wide facts (how many
/// records exist, where one was tampered with). No project role — not even
/// a project's `admin` — and no organization admin's scope covers that,
/// so the one identity whose scope is the install is the only fit (the
/// same reach as `strongroom audit verify`, which needs the install
/// itself). Others get 403: the route is not a project's resource, so
/// there is nothing whose existence a 404 would hide.
///
/// It is a full scan: on a very large log prefer `strongroom audit verify`
/// on the server, which no request timeout bounds.
#[utoipa::path(get, path = "/api/v1/audit-logs/verify", tag = "audit",
    responses((status = 200, body = VerifyResponse), (status = 403, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<ApiJson<VerifyResponse>, ApiError> {
    if !caller.is_super_admin() {
        return Err(ApiError::forbidden(
            "verifying the install's audit chain needs the install's super admin",
        ));
    }
    let answer = match state.kms.verify_audit().await {
        Ok(records) => VerifyResponse {
            valid: true,
            records: Some(records),
            first_bad_record: None,
            reason: None,
            message: None,
        },
        Err(kms_core::Error::Audit(e)) => {
            let (reason, seq) = match &e {
                AuditError::RecordAltered { seq } => ("record_altered", Some(*seq)),
                AuditError::BrokenLink { seq, .. } => ("broken_link", Some(*seq)),
                AuditError::WrongSequence { seq, .. } => ("wrong_sequence", Some(*seq)),
                AuditError::HeadNotAuthentic => ("head_not_authentic", None),
                AuditError::HeadMismatch { last, .. } => ("head_mismatch", Some(*last)),
                _ => ("invalid", None),
            };
            tracing::warn!(error = %e, "audit chain verification failed");
            VerifyResponse {
                valid: false,
                records: None,
                first_bad_record: seq,
                reason: Some(reason.to_owned()),
                message: Some(e.to_string()),
            }
        }
        Err(e) => return Err(e.into()),
    };
    Ok(ApiJson(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_or_fail_with_a_stable_code() {
        assert_eq!(
            parse_date("startDate", "1970-01-01T00:00:01Z").unwrap(),
            1_000_000
        );
        assert_eq!(
            parse_date("startDate", "1970-01-02").unwrap(),
            86_400_000_000
        );
        assert_eq!(
            parse_date("startDate", "2026-12-07T08:00:00.5+01:00").unwrap(),
            parse_date("startDate", "2026-12-07T07:00:00.5Z").unwrap()
        );
        for bad in [
            "yesterday",
            "2026-13-01",
            "1700000000",
            "",
            &"9".repeat(100),
        ] {
            assert_eq!(parse_date("endDate", bad).unwrap_err().code, "invalid_date");
        }
    }

    #[test]
    fn filters_become_a_query() {
        let project = ProjectId::generate();
        let id = Uuid::new_v4();
        let f = AuditFilters {
            actor: Some(id.to_string()),
            action: Some("transit.*".into()),
            key_id: Some(id.to_string().to_uppercase()),
            ..AuditFilters::default()
        };
        let q = query_of(project, &f).unwrap();
        assert_eq!(q.actor, Some(format!("identity:{id}")));
        assert_eq!(q.action, Some(ActionFilter::Prefix("transit.".into())));
        assert_eq!(q.object, Some(id.to_string()));
        let exact = AuditFilters {
            action: Some("transit.encrypt".into()),
            actor: Some("kmip:app".into()),
            ..AuditFilters::default()
        };
        let q = query_of(project, &exact).unwrap();
        assert_eq!(
            q.action,
            Some(ActionFilter::Exact("transit.encrypt".into()))
        );
        assert_eq!(q.actor.as_deref(), Some("kmip:app"));
        for bad in ["a*b", "**", "", "x\ny"] {
            let f = AuditFilters {
                action: Some(bad.into()),
                ..AuditFilters::default()
            };
            assert_eq!(
                query_of(project, &f).unwrap_err().code,
                "invalid_request",
                "{bad:?}"
            );
        }
        let backwards = AuditFilters {
            start_date: Some("2026-12-08".into()),
            end_date: Some("2026-12-07".into()),
            ..AuditFilters::default()
        };
        assert_eq!(
            query_of(project, &backwards).unwrap_err().code,
            "invalid_date_range"
        );
    }

    #[test]
    fn timestamps_are_rfc3339_with_microseconds() {
        assert_eq!(timestamp(1_500_000), "1970-01-01T00:00:01.5Z");
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
    }
}
