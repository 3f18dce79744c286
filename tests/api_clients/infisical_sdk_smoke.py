"""Infisical's official Python SDK (`infisicalsdk`), unmodified, against a
Strongroom dev server: Universal Auth login, then the SDK's whole KMS
surface (create, list, get by id and by name, update, encrypt, decrypt,
delete). The SDK talks HTTPS through `requests`, which trusts the CA bundle
named by REQUESTS_CA_BUNDLE (the test points it at the dev CA).

Arguments: API URL, client id, client secret, project id.
Prints one line per step; exits non-zero on the first failure.
"""

import base64
import sys

from infisical_sdk import InfisicalSDKClient
from infisical_sdk.api_types import SymmetricEncryption, KmsKeysOrderBy, OrderDirection
from infisical_sdk.infisical_requests import APIError


def check(condition, what):
    if not condition:
        print(f"FAIL {what}", flush=True)
        sys.exit(1)
    print(f"ok {what}", flush=True)


def main():
    url, client_id, client_secret, project_id = sys.argv[1:5]
    client = InfisicalSDKClient(host=url, cache_ttl=None)

    login = client.auth.universal_auth.login(client_id=client_id, client_secret=client_secret)
    check(login.tokenType == "Bearer" and login.accessToken, "universal auth login")

    key = client.kms.create_key(
        name="sdk-key",
        project_id=project_id,
        encryption_algorithm=SymmetricEncryption.AES_GCM_256,
        description="made by the Infisical SDK",
    )
    check(key.name == "sdk-key" and key.projectId == project_id and key.version == 1, "create")
    check(key.encryptionAlgorithm == "aes-256-gcm" and key.isDisabled is False, "create fields")

    key128 = client.kms.create_key(
        name="sdk-key-128",
        project_id=project_id,
        encryption_algorithm=SymmetricEncryption.AES_GCM_128,
    )
    check(key128.encryptionAlgorithm == "aes-128-gcm" and key128.description == "", "create without description")

    listed = client.kms.list_keys(
        project_id=project_id,
        offset=0,
        limit=10,
        order_by=KmsKeysOrderBy.NAME,
        order_direction=OrderDirection.DESC,
        search="sdk",
    )
    names = [k.name for k in listed.keys]
    check(listed.totalCount == 2 and names == ["sdk-key-128", "sdk-key"], f"list {names}")

    by_id = client.kms.get_key_by_id(key_id=key.id)
    check(by_id.id == key.id and by_id.name == "sdk-key", "get by id")
    by_name = client.kms.get_key_by_name(key_name="sdk-key", project_id=project_id)
    check(by_name.id == key.id, "get by name")

    updated = client.kms.update_key(key_id=key.id, name="sdk-key-renamed", description="renamed")
    check(updated.name == "sdk-key-renamed" and updated.description == "renamed", "update")

    plaintext = base64.b64encode(b"hello from infisicalsdk").decode()
    ciphertext = client.kms.encrypt_data(key_id=key.id, base64EncodedPlaintext=plaintext)
    check(isinstance(ciphertext, str) and ciphertext != plaintext, "encrypt")
    decrypted = client.kms.decrypt_data(key_id=key.id, ciphertext=ciphertext)
    check(decrypted == plaintext, "decrypt")

    disabled = client.kms.update_key(key_id=key.id, is_disabled=True)
    check(disabled.isDisabled is True, "disable")
    try:
        client.kms.encrypt_data(key_id=key.id, base64EncodedPlaintext=plaintext)
        check(False, "encrypt with a disabled key is refused")
    except APIError as e:
        check(e.status_code == 409 and "disabled" in str(e), "encrypt with a disabled key is refused")

    sign = getattr(client.kms, "sign_data", None)
    if sign is None:
        print("skip sign/verify: this SDK version has no signing methods", flush=True)

    deleted = client.kms.delete_key(key_id=key.id)
    check(deleted.id == key.id, "delete")
    try:
        client.kms.get_key_by_id(key_id=key.id)
        check(False, "deleted key is gone")
    except APIError as e:
        check(e.status_code == 404, "deleted key is gone")
    client.kms.delete_key(key_id=key128.id)
    print("ALL OK", flush=True)


if __name__ == "__main__":
    main()
