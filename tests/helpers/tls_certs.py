#!/usr/bin/env python3
"""tests/helpers/tls_certs.py DIR — certificates for the HTTPS inspection tests:
an upstream CA (upca.pem), a server certificate it signs for the test hosts
(good.pem/good.key), a self-signed one (self.pem), an expired one signed by
the CA (expired.pem) and one for another name (wrong.pem).  Made with
python3-cryptography so that validity dates can be in the past."""
import datetime
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

d = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)
day = datetime.timedelta(days=1)


def key():
    return ec.generate_private_key(ec.SECP256R1())


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def save(stem, cert, k):
    with open(f"{d}/{stem}.pem", "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    if k is not None:
        with open(f"{d}/{stem}.key", "wb") as f:
            f.write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))


def leaf(cn, sans, issuer_cert, issuer_key, nb, na, k=None):
    k = k or key()
    b = (x509.CertificateBuilder().subject_name(name(cn))
         .issuer_name(issuer_cert.subject if issuer_cert is not None else name(cn))
         .public_key(k.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(nb).not_valid_after(na)
         .add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
         .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
    return b.sign(issuer_key or k, hashes.SHA256()), k


cak = key()
ca = (x509.CertificateBuilder().subject_name(name("glassbox test upstream CA"))
      .issuer_name(name("glassbox test upstream CA")).public_key(cak.public_key())
      .serial_number(x509.random_serial_number()).not_valid_before(now - day)
      .not_valid_after(now + 30 * day)
      .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
      .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
      .sign(cak, hashes.SHA256()))
save("upca", ca, cak)
hosts = sys.argv[2].split(",") if len(sys.argv) > 2 else ["api.test"]
c, k = leaf(hosts[0], hosts, ca, cak, now - day, now + 30 * day)
save("good", c, k)
c, k = leaf("self.test", ["self.test"], None, None, now - day, now + 30 * day)
save("self", c, k)
c, k = leaf("expired.test", ["expired.test"], ca, cak, now - 30 * day, now - 2 * day)
save("expired", c, k)
c, k = leaf("other.test", ["other.test"], ca, cak, now - day, now + 30 * day)
save("wrong", c, k)
