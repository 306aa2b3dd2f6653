"""Secrets never reach an output."""

from __future__ import annotations

import pytest
from conftest import diagnose_source

from aib_doctor.core.redact import redact


@pytest.mark.parametrize(
    "text,secret",
    [
        ("https://a.blob.core.windows.net/s/x.ps1?sv=2022-11-02&se=2024&sig=AbC%2Bdef123%3D", "AbC%2Bdef123%3D"),
        ("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9vYmFyYmF6cXV4==;EndpointSuffix=core.windows.net", "Zm9vYmFyYmF6cXV4=="),
        ("Authorization: Bearer eyJ0eXAiOiJKV1QiLCJhbGciOi.eyJhdWQiOiJodHRwczovL21h.c2lnbmF0dXJl", "eyJhdWQiOiJodHRwczovL21h"),
        ("$adminPassword = 'Pa55w0rd!'", "Pa55w0rd!"),
        ("net user admin /add; New-LocalUser -Password S3cr3tValue -Name x", "S3cr3tValue"),
        ("client_secret=abcDEF123456", "abcDEF123456"),
        ("git clone https://builder:ghp_token123@github.com/org/repo", "ghp_token123"),
    ],
)
def test_redact_removes_the_secret(text, secret):
    assert secret not in redact(text)
    assert "[REDACTED]" in redact(text)


# Lines that look like they hold a secret and do not, each with why, as real texts showed them.
NOT_SECRETS = [
    ("Packer's summary", "[45f4] PACKER OUT ==> azure-arm: Script exited with non-zero exit status: 100. Allowed exit codes are: [0]"),
    (
        "a .NET assembly's public key token is public",
        "1>    Compiling assembly TaskScheduler, Version=10.0.0.0, Culture=Neutral, PublicKeyToken=31bf3856ad364e35 ...",
    ),
    ("the DevOps agent's debug line for a proxy password it does not have", "##[debug]agent.proxypassword=undefined"),
    (
        "a URL whose user is a variable's name and whose password is empty: the host follows",
        'git config --global url."https://$GIT_TOKEN:@git.example.com/".insteadOf "https://git.example.com/"',
    ),
    ("Autorest naming the method that failed", "keyvault.BaseClient#GetSecret: Failure responding to request: StatusCode=403"),
    (
        "a server's challenge names where to get a token",
        'Unable to authenticate, need: Bearer authorization_uri=https://login.windows.net/common, Basic realm="https://pkgsprodsu3weu.app.pkgs.visualstudio.com/"',
    ),
    (
        "npm's integrity field is the package's public hash",
        "wanted sha512-L3hKV5R/p5o81R7O02IGnwpDmkp6E982XhtbuwSe3O4qOtMMMtodicASA1Cny2U+aCXcNpml+m4dPsvsJ3jatg== but got",
    ),
    (
        "a client saying why it refused a token",
        "Failed to attach machine: =[https://contracts.canonical.com/v1/context/machines/token]invalid token: checksum error",
    ),
    ("a Packer (Go template) or Ansible (Jinja) expression names where the value comes from", '"login_password": "{{user `docker_login_password`}}",'),
    ("values the poster already masked", "docker run -e POSTGRES_PASSWORD=REDACTED -e API_KEY=xxxx pgvector"),
    (
        "a masked password before a URL's host",
        "fatal: unable to access 'https://gitlab-ci-token:xxxxxx@gitlab.example.com/research/slack.git/': SSL certificate problem",
    ),
    ("Ansible's own mask for a no_log parameter", '"secret": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER",'),
    (
        "Ansible's become prompt ends in 'password: ' and the quoted command line follows it",
        """sudo -H -S -n -p "[sudo via ansible, key=ofxlibpjnnwlhv] password: " -u postgres /bin/sh -c '"'"'echo BECOME-SUCCESS'"'"'""",
    ),
    (
        "adal names its function in its errors",
        'Original Error: clientCredentialsToken: received HTTP status 401 with response: {"error_uri":"https://login.microsoftonline.com/error?code=7000215"}',
    ),
    ("an error page's numeric code in pasted JSON", "see https://login.microsoftonline.com/error?code=7000215%22})"),
    (
        "after a colon, words that go on are a sentence about the secret, not its value",
        'vault: getting key vault secret: GET https://x.vault.azure.net/secrets/db?api-version=7.4 "is_secret": conflicts with key_vault; token: invalid subject (sub) claim',
    ),
    (
        "signatures the poster already masked",
        "https://acct.blob.core.windows.net/c/a.vhd?sv=2018-11-09&sr=c&sig=xxxxxxxxxxxxxxxx and &sig=REDACTED&sr=b and ?se=2021-05-13&sig=xxxxxx.%3D&sp=r",
    ),
]


@pytest.mark.parametrize("why,line", NOT_SECRETS, ids=[why for why, _ in NOT_SECRETS])
def test_what_only_looks_like_a_secret_is_unchanged(why, line):
    assert redact(line) == line


@pytest.mark.parametrize(
    "text,secret",
    [
        ("access_token=s3cr3tvalue", "s3cr3tvalue"),
        ("token:@s3cr3t", "s3cr3t"),
        ("Password: hunter2 was set", "hunter2"),
        ("secret: letmein", "letmein"),
        ("Authorization: Bearer abcdefgh12345678", "abcdefgh12345678"),
        ('"login_password": "s3cr3tvalue",', "s3cr3tvalue"),
        ("https://acct.blob.core.windows.net/c/a.vhd?sv=2018-11-09&sig=k3yMaterial%3D", "k3yMaterial"),
    ],
)
def test_the_same_shapes_with_a_real_value_are_still_hidden(text, secret):
    assert secret not in redact(text)


def test_evidence_is_redacted():
    report = diagnose_source(
        "provisioningError",
        "Downloading external file (https://s.blob.core.windows.net/c/a.ps1?sp=r&sig=TOPSECRET123) to local file (x.0.customizer.fp) [attempt 1 of 10] failed",
    )
    assert report.primary.rule == "AIB005"
    assert all("TOPSECRET123" not in e.text for e in report.primary.evidence)
    assert "TOPSECRET123" not in report.primary.cause
