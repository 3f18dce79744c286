//! Names: the subject and issuer distinguished names, and the subject
//! alternative names (DNS names and IP addresses) a TLS peer checks.
//!
//! Distinguished names are built with [`NameBuilder`], one attribute per
//! relative distinguished name, in the order the builder is called (most
//! significant first, as `C`, `O`, `OU`, `CN`). Text attributes are written as
//! `UTF8String` (RFC 5280 §4.1.2.4), the country as a two-letter
//! `PrintableString`. Values are checked before they are encoded: not empty,
//! at most [`MAX_ATTRIBUTE_LEN`] characters (the X.520 upper bounds), no
//! control characters, because a name is shown to people and written to logs.
//!
//! [`SubjectAltNames`] holds the DNS names and IP addresses of a server
//! certificate. A DNS name must be a valid host name (letters, digits and
//! hyphens in labels of at most 63 characters, 253 in all), optionally with a
//! `*` as its whole first label; it is stored in lower case. Anything that
//! parses as an IPv4 or IPv6 address is an IP address.

use std::net::IpAddr;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc4519::{C, CN, O, OU};
use der::asn1::{Any, Ia5String, PrintableStringRef, SetOfVec, Utf8StringRef};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::ext::pkix::name::{GeneralName, GeneralNames};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

use super::error::{Error, Result};

/// The longest value of a name attribute, in characters (X.520's
/// `ub-common-name`, `ub-organization-name`, `ub-organizational-unit-name`).
pub const MAX_ATTRIBUTE_LEN: usize = 64;

/// The most subject alternative names one certificate may carry.
pub const MAX_SUBJECT_ALT_NAMES: usize = 100;

/// Builds a distinguished name attribute by attribute.
#[derive(Clone, Debug, Default)]
pub struct NameBuilder {
    rdns: Vec<RelativeDistinguishedName>,
}

impl NameBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a common name (`CN`).
    pub fn common_name(self, value: &str) -> Result<Self> {
        self.text(CN, "common name", value)
    }

    /// Adds an organization (`O`).
    pub fn organization(self, value: &str) -> Result<Self> {
        self.text(O, "organization", value)
    }

    /// Adds an organizational unit (`OU`).
    pub fn organizational_unit(self, value: &str) -> Result<Self> {
        self.text(OU, "organizational unit", value)
    }

    /// Adds a country (`C`): two ASCII letters, as ISO 3166 writes them.
    pub fn country(self, code: &str) -> Result<Self> {
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(Error::InvalidName {
                field: "country",
                reason: "must be two upper-case letters (ISO 3166)",
            });
        }
        let value = PrintableStringRef::new(code).map_err(Error::der("encoding a country"))?;
        let any = Any::encode_from(&value).map_err(Error::der("encoding a country"))?;
        self.push(C, any)
    }

    /// The name. An empty builder gives the empty name, which RFC 5280
    /// allows only together with a critical subject alternative name.
    pub fn build(self) -> Name {
        RdnSequence(self.rdns)
    }

    fn text(self, oid: ObjectIdentifier, field: &'static str, value: &str) -> Result<Self> {
        check_attribute(field, value)?;
        let utf8 = Utf8StringRef::new(value).map_err(Error::der("encoding a name"))?;
        let any = Any::encode_from(&utf8).map_err(Error::der("encoding a name"))?;
        self.push(oid, any)
    }

    fn push(mut self, oid: ObjectIdentifier, value: Any) -> Result<Self> {
        let mut set = SetOfVec::new();
        set.insert(AttributeTypeAndValue { oid, value })
            .map_err(Error::der("building a name"))?;
        self.rdns.push(RelativeDistinguishedName(set));
        Ok(self)
    }
}

/// A name with only a common name: what Strongroom's CA, server and client
/// certificates carry.
pub fn common_name(value: &str) -> Result<Name> {
    Ok(NameBuilder::new().common_name(value)?.build())
}

/// The first common name of `name`, if it has one in a string type this
/// crate reads (`UTF8String`, `PrintableString`, `IA5String`).
pub fn common_name_of(name: &Name) -> Option<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == CN)
        .and_then(|atv| {
            atv.value
                .decode_as::<Utf8StringRef<'_>>()
                .map(|s| s.as_str().to_owned())
                .or_else(|_| {
                    atv.value
                        .decode_as::<PrintableStringRef<'_>>()
                        .map(|s| s.as_str().to_owned())
                })
                .or_else(|_| atv.value.decode_as::<Ia5String>().map(|s| s.to_string()))
                .ok()
        })
}

fn check_attribute(field: &'static str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::InvalidName {
            field,
            reason: "is empty",
        });
    }
    if value.chars().count() > MAX_ATTRIBUTE_LEN {
        return Err(Error::InvalidName {
            field,
            reason: "is longer than 64 characters",
        });
    }
    if value.chars().any(char::is_control) {
        return Err(Error::InvalidName {
            field,
            reason: "contains control characters",
        });
    }
    Ok(())
}

/// The DNS names and IP addresses a certificate is valid for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubjectAltNames {
    dns: Vec<String>,
    ips: Vec<IpAddr>,
}

impl SubjectAltNames {
    pub fn new() -> Self {
        Self::default()
    }

    /// Each of `names` as an IP address if it parses as one, else as a DNS
    /// name. Duplicates are kept once.
    pub fn parse<I, S>(names: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut sans = Self::new();
        for name in names {
            sans.add(name.as_ref())?;
        }
        Ok(sans)
    }

    /// Adds `name` as an IP address if it parses as one, else as a DNS name.
    pub fn add(&mut self, name: &str) -> Result<()> {
        match name.parse::<IpAddr>() {
            Ok(ip) => self.add_ip(ip),
            Err(_) => self.add_dns(name),
        }
    }

    /// Adds a DNS name (see the module docs for what is accepted).
    pub fn add_dns(&mut self, name: &str) -> Result<()> {
        let lower = validate_dns_name(name)?;
        if !self.dns.contains(&lower) {
            self.make_room(name)?;
            self.dns.push(lower);
        }
        Ok(())
    }

    /// Adds an IP address.
    pub fn add_ip(&mut self, ip: IpAddr) -> Result<()> {
        if !self.ips.contains(&ip) {
            self.make_room(&ip.to_string())?;
            self.ips.push(ip);
        }
        Ok(())
    }

    pub fn dns_names(&self) -> &[String] {
        &self.dns
    }

    pub fn ip_addresses(&self) -> &[IpAddr] {
        &self.ips
    }

    pub fn is_empty(&self) -> bool {
        self.dns.is_empty() && self.ips.is_empty()
    }

    fn make_room(&self, name: &str) -> Result<()> {
        if self.dns.len() + self.ips.len() >= MAX_SUBJECT_ALT_NAMES {
            return Err(Error::InvalidSubjectAltName {
                name: shorten(name),
                reason: "too many subject alternative names (at most 100)",
            });
        }
        Ok(())
    }

    /// The names as X.509 `GeneralNames`, DNS names first.
    pub(crate) fn to_general_names(&self) -> Result<GeneralNames> {
        let mut out = Vec::with_capacity(self.dns.len() + self.ips.len());
        for dns in &self.dns {
            let ia5 = Ia5String::new(dns).map_err(Error::der("encoding a DNS name"))?;
            out.push(GeneralName::DnsName(ia5));
        }
        out.extend(self.ips.iter().map(|ip| GeneralName::from(*ip)));
        Ok(out)
    }
}

/// `name` in lower case if it is a valid host name (a leading `*` label
/// allowed).
fn validate_dns_name(name: &str) -> Result<String> {
    let refuse = |reason| Error::InvalidSubjectAltName {
        name: shorten(name),
        reason,
    };
    if name.is_empty() || name.len() > 253 {
        return Err(refuse("a DNS name has 1 to 253 characters"));
    }
    for (i, label) in name.split('.').enumerate() {
        if i == 0 && label == "*" {
            continue;
        }
        if label.is_empty() || label.len() > 63 {
            return Err(refuse("each DNS label has 1 to 63 characters"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(refuse(
                "a DNS label holds only letters, digits and hyphens (use punycode for others)",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(refuse("a DNS label neither starts nor ends with a hyphen"));
        }
    }
    if name == "*" || name.starts_with("*.") && !name[2..].contains('.') {
        return Err(refuse("a wildcard must stand for one label below a domain"));
    }
    Ok(name.to_ascii_lowercase())
}

/// At most 80 characters of untrusted input, for an error message.
fn shorten(name: &str) -> String {
    name.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_into_dns_and_ip() {
        let sans = SubjectAltNames::parse(["LocalHost", "127.0.0.1", "::1", "localhost"]).unwrap();
        assert_eq!(sans.dns_names(), ["localhost"]);
        assert_eq!(sans.ip_addresses().len(), 2);
    }

    #[test]
    fn bad_dns_names_are_refused() {
        for bad in [
            "",
            "a..b",
            "-a.b",
            "a-.b",
            "a_b.c",
            "*",
            "*.com",
            "a.*.b",
            "exa mple.com",
            &"a".repeat(64),
            &format!("{}.com", "a.".repeat(130)),
        ] {
            assert!(SubjectAltNames::parse([bad]).is_err(), "{bad:?} accepted");
        }
        assert!(SubjectAltNames::parse(["*.example.com", "kms-1.internal"]).is_ok());
    }

    #[test]
    fn name_attributes_are_checked_and_read_back() {
        assert!(common_name("").is_err());
        assert!(common_name(&"x".repeat(65)).is_err());
        assert!(common_name("a\nb").is_err());
        assert!(NameBuilder::new().country("fr").is_err());
        let name = NameBuilder::new()
            .country("FR")
            .unwrap()
            .common_name("Strongroom KMIP CA")
            .unwrap()
            .build();
        assert_eq!(common_name_of(&name).as_deref(), Some("Strongroom KMIP CA"));
        // RFC 4514 strings list the last RDN first.
        assert_eq!(name.to_string(), "CN=Strongroom KMIP CA,C=FR");
    }
}
