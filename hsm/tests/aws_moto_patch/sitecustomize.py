"""Loaded by Python at start-up when this directory is on PYTHONPATH: the
AWS KMS test harness (`hsm/tests/aws_support`) starts `moto_server` that
way, to add two behaviours of real AWS KMS that moto (5.x) does not model.

Real AWS KMS, per its API reference, against moto:

* Encrypt/Decrypt with a key whose state is Disabled fail with
  `DisabledException`, and with PendingDeletion with
  `KMSInvalidStateException`. Moto ignores the key state.
* Decrypt with a KeyId other than the key that encrypted the ciphertext fails
  with `IncorrectKeyException`. Moto answers `AccessDeniedException`.

Everything else (request parsing, encryption-context checks, not-found
errors, the wire format) is moto's own. In a Python without moto this file
does nothing.
"""

import sys

try:
    from moto.core.exceptions import JsonRESTError
    from moto.kms import models
except Exception:  # not moto's interpreter
    models = None


def _check_state(backend, key_id):
    try:
        key = backend.keys[backend.any_id_to_key_id(key_id)]
    except Exception:
        return  # moto reports unknown keys itself
    if key.key_state == "Disabled":
        raise JsonRESTError("DisabledException", f"{key.arn} is disabled.")
    if key.key_state == "PendingDeletion":
        raise JsonRESTError("KMSInvalidStateException", f"{key.arn} is pending deletion.")


if models is not None:
    _encrypt = models.KmsBackend.encrypt
    _decrypt = models.KmsBackend.decrypt

    def encrypt(self, key_id, plaintext, encryption_context):
        _check_state(self, key_id)
        return _encrypt(
            self, key_id=key_id, plaintext=plaintext, encryption_context=encryption_context
        )

    def decrypt(self, ciphertext_blob, encryption_context, key_id=None):
        if key_id is not None:
            _check_state(self, key_id)
        try:
            return _decrypt(
                self,
                ciphertext_blob=ciphertext_blob,
                encryption_context=encryption_context,
                key_id=key_id,
            )
        except JsonRESTError as e:
            if key_id is not None and e.error_type == "AccessDeniedException":
                raise JsonRESTError(
                    "IncorrectKeyException",
                    "The key ID in the request does not identify a CMK that can "
                    "perform this operation.",
                )
            raise

    models.KmsBackend.encrypt = encrypt
    models.KmsBackend.decrypt = decrypt
    print("strongroom-moto-patch: loaded", file=sys.stderr, flush=True)
