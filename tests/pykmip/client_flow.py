"""PyKMIP 0.11 against a KMIP server: the TLS handshake and a short object flow.

    client_flow.py --port P --cert C --key K --ca CA [--host H] [--version 1.0|1.1|1.2|1.3|1.4|2.0]
                   [--mode flow|smoke] [--ssl-version PROTOCOL_TLS|PROTOCOL_TLSv1_2]

smoke: TLS handshake, DiscoverVersions and Query through PyKMIP's low-level proxy (what works
       before the object operations exist).
flow:  create AES-256, get, get_attributes, activate, locate by name, register a SecretData and
       an X.509 certificate (made here with `cryptography`), create an RSA-2048 key pair,
       revoke, destroy, then check that get after destroy fails.

Every step prints one `OK <step>: ...` or `FAIL <step>: ...` line (later steps print `SKIP`);
the exit code is 0 only when every step passed. Run by tests/interop_pykmip.rs: smoke against
kmipd over TLS 1.3 and 1.2, flow against PyKMIP's own server (the flow needs nothing
kmipd-specific). client_api.py, which imports the helpers here, covers the whole client API
against kmipd.
"""

import argparse
import datetime
import secrets
import sys
import traceback

from kmip.core import enums
from kmip.core.factories import attributes as attribute_factories
from kmip.pie import exceptions, objects
from kmip.pie.client import ProxyKmipClient

VERSIONS = {
    "1.0": enums.KMIPVersion.KMIP_1_0,
    "1.1": enums.KMIPVersion.KMIP_1_1,
    "1.2": enums.KMIPVersion.KMIP_1_2,
    "1.3": enums.KMIPVersion.KMIP_1_3,
    "1.4": enums.KMIPVersion.KMIP_1_4,
    "2.0": enums.KMIPVersion.KMIP_2_0,
}

# Reasons a server may give for not returning the material of an object it keeps
# non-extractable (kmipd's default policy: key material stays in the HSM).
NOT_EXTRACTABLE = {
    enums.ResultReason.NOT_EXTRACTABLE,
    enums.ResultReason.SENSITIVE,
    enums.ResultReason.KEY_VALUE_NOT_PRESENT,
    enums.ResultReason.PERMISSION_DENIED,
}


class StepFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise StepFailed(message)


def connect(args):
    # A config section that exists nowhere: no ~/.pykmip or /etc/pykmip settings leak in.
    return ProxyKmipClient(
        hostname=args.host,
        port=args.port,
        cert=args.cert,
        key=args.key,
        ca=args.ca,
        ssl_version=args.ssl_version,
        kmip_version=VERSIONS[args.version],
        config="kmipd-interop-test-no-such-section",
    )


def attribute_map(attributes):
    return {a.attribute_name.value: a.attribute_value for a in attributes}


def get_or_refused(client, uid):
    """The object, or None when the server refuses its material as not extractable."""
    try:
        return client.get(uid)
    except exceptions.KmipOperationFailure as e:
        if e.reason in NOT_EXTRACTABLE:
            return None
        raise


def self_signed_certificate():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kmipd pykmip interop")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def smoke_steps(client, args):
    def discover_versions():
        result = client.proxy.discover_versions()
        check(result.result_status.value == enums.ResultStatus.SUCCESS, f"status {result.result_status}")
        versions = [f"{v.major}.{v.minor}" for v in result.protocol_versions]
        check(args.version in versions, f"{args.version} not among {versions}")
        return ", ".join(versions)

    def query():
        result = client.proxy.query(
            query_functions=[enums.QueryFunction.QUERY_OPERATIONS, enums.QueryFunction.QUERY_OBJECTS]
        )
        check(result.result_status.value == enums.ResultStatus.SUCCESS, f"status {result.result_status}")
        operations = [o.name for o in result.operations]
        check("QUERY" in operations, f"Query not listed: {operations}")
        return f"{len(operations)} operations"

    return [("discover_versions", discover_versions), ("query", query)]


def flow_steps(client, args):
    tag = secrets.token_hex(4)
    state = {}
    key_name = f"pykmip-aes-{args.version}-{tag}"

    def create():
        uid = client.create(
            enums.CryptographicAlgorithm.AES,
            256,
            name=key_name,
            cryptographic_usage_mask=[enums.CryptographicUsageMask.ENCRYPT, enums.CryptographicUsageMask.DECRYPT],
        )
        check(isinstance(uid, str) and uid, f"bad uid {uid!r}")
        state["aes"] = uid
        return uid

    def get():
        key = get_or_refused(client, state["aes"])
        if key is None:
            return "material refused as not extractable (server policy)"
        check(isinstance(key, objects.SymmetricKey), f"got {type(key).__name__}")
        check(key.cryptographic_algorithm == enums.CryptographicAlgorithm.AES, f"{key.cryptographic_algorithm}")
        check(key.cryptographic_length == 256 and len(key.value) == 32, f"length {key.cryptographic_length}")
        return "32 bytes of AES key material"

    def get_attributes():
        uid, attrs = client.get_attributes(
            state["aes"], ["Cryptographic Algorithm", "Cryptographic Length", "Name", "State"]
        )
        check(uid == state["aes"], f"answer for {uid}")
        a = attribute_map(attrs)
        check(a["Cryptographic Algorithm"].value == enums.CryptographicAlgorithm.AES, f"{a}")
        check(a["Cryptographic Length"].value == 256, f"{a}")
        check(a["Name"].name_value.value == key_name, f"{a}")
        check(a["State"].value == enums.State.PRE_ACTIVE, f"state {a['State'].value}")
        return "AES, 256, named, Pre-Active"

    def activate():
        client.activate(state["aes"])
        _, attrs = client.get_attributes(state["aes"], ["State"])
        check(attribute_map(attrs)["State"].value == enums.State.ACTIVE, "not Active after Activate")
        return "Active"

    def locate():
        name = attribute_factories.AttributeFactory().create_attribute(enums.AttributeType.NAME, key_name)
        found = client.locate(attributes=[name])
        check(found == [state["aes"]], f"found {found}")
        return f"found {found[0]}"

    def register_secret():
        value = secrets.token_bytes(24)
        secret = objects.SecretData(
            value,
            enums.SecretDataType.PASSWORD,
            masks=[enums.CryptographicUsageMask.DERIVE_KEY],
            name=f"pykmip-secret-{tag}",
        )
        uid = client.register(secret)
        state["secret"] = uid
        got = get_or_refused(client, uid)
        if got is None:
            return f"{uid}; material refused as not extractable (server policy)"
        check(isinstance(got, objects.SecretData), f"got {type(got).__name__}")
        check(got.value == value, "the value differs")
        return f"{uid}; value round-trips"

    def register_certificate():
        der = self_signed_certificate()
        uid = client.register(objects.X509Certificate(der, name=f"pykmip-cert-{tag}"))
        state["cert"] = uid
        got = client.get(uid)
        check(isinstance(got, objects.X509Certificate), f"got {type(got).__name__}")
        check(got.value == der, "the certificate differs")
        return f"{uid}; DER round-trips"

    def create_key_pair():
        public_uid, private_uid = client.create_key_pair(
            enums.CryptographicAlgorithm.RSA,
            2048,
            public_name=f"pykmip-rsa-public-{tag}",
            public_usage_mask=[enums.CryptographicUsageMask.VERIFY],
            private_name=f"pykmip-rsa-private-{tag}",
            private_usage_mask=[enums.CryptographicUsageMask.SIGN],
        )
        state["public"], state["private"] = public_uid, private_uid
        public = client.get(public_uid)
        check(isinstance(public, objects.PublicKey), f"got {type(public).__name__}")
        check(public.cryptographic_algorithm == enums.CryptographicAlgorithm.RSA, f"{public.cryptographic_algorithm}")
        check(public.cryptographic_length == 2048, f"length {public.cryptographic_length}")
        return f"public {public_uid}, private {private_uid}"

    def revoke():
        client.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, state["aes"])
        _, attrs = client.get_attributes(state["aes"], ["State"])
        got = attribute_map(attrs)["State"].value
        check(got == enums.State.DEACTIVATED, f"state {got}")
        return "Deactivated"

    def destroy():
        for what in ("aes", "secret", "cert", "public", "private"):
            client.destroy(state[what])
        return "5 objects"

    def get_after_destroy():
        for what in ("aes", "cert"):
            try:
                client.get(state[what])
            except exceptions.KmipOperationFailure as e:
                state.setdefault("reasons", []).append(f"{what}: {e.reason.name}")
                continue
            raise StepFailed(f"get of the destroyed {what} object succeeded")
        return ", ".join(state["reasons"])

    return [
        ("create", create),
        ("get", get),
        ("get_attributes", get_attributes),
        ("activate", activate),
        ("locate", locate),
        ("register_secret", register_secret),
        ("register_certificate", register_certificate),
        ("create_key_pair", create_key_pair),
        ("revoke", revoke),
        ("destroy", destroy),
        ("get_after_destroy", get_after_destroy),
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--version", choices=sorted(VERSIONS), default="1.2")
    parser.add_argument("--mode", choices=["flow", "smoke"], default="flow")
    # PyKMIP hands this to ssl.SSLContext: PROTOCOL_TLS negotiates TLS 1.3 with kmipd,
    # PROTOCOL_TLSv1_2 forces TLS 1.2 (ECDHE with AES-GCM).
    parser.add_argument("--ssl-version", default="PROTOCOL_TLS")
    args = parser.parse_args()

    client = connect(args)
    try:
        client.open()
    except Exception as e:  # the TLS handshake or the TCP connection
        print(f"FAIL open: {type(e).__name__}: {e}")
        return 1
    tls = client.proxy.socket
    print(f"OK open: KMIP {args.version} to {args.host}:{args.port} over {tls.version()} {tls.cipher()[0]}")

    steps = {"smoke": smoke_steps, "flow": flow_steps}[args.mode](client, args)
    failed = False
    try:
        for name, step in steps:
            if failed:
                print(f"SKIP {name}")
                continue
            try:
                detail = step()
                print(f"OK {name}: {detail}")
            except Exception as e:
                failed = True
                print(f"FAIL {name}: {type(e).__name__}: {e}")
                traceback.print_exc(file=sys.stderr)
    finally:
        client.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
