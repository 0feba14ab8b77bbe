# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as users get it: the tarball ``ansible-galaxy collection build`` makes from this checkout.

- it holds what users run and none of the maintainers' tooling (build_ignore in galaxy.yml);
- Galaxy's own importer (galaxy-importer, offline: no container, no ansible-test) accepts it;
- ansible-builder, reading the *installed* collection, finds boto3/botocore ranges and the OpenSSH client, not the
  emulator or the repository's pins (meta/execution-environment.yml);
- ``ansible-builder create`` writes the build context of execution-environment/ (no container is built here).

galaxy-importer and ansible-builder run from a venv of their own (tests/requirements-package.txt), made on the
first run under .cache/ and reused while that file is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

VENV = ROOT / ".cache" / "venv-package"
REQUIREMENTS = ROOT / "tests" / "requirements-package.txt"
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
TARBALL_NAME = "%s-%s-%s.tar.gz" % (GALAXY["namespace"], GALAXY["name"], GALAXY["version"])

# What a user runs or reads, and nothing else, at the top of the tarball.
SHIPPED = {
    "COPYING",
    "FILES.json",
    "MANIFEST.json",
    "README.md",
    "bindep.txt",
    "changelogs",
    "docs",
    "meta",
    "playbooks",
    "plugins",
    "roles",
}


def _env_without_checkout_config() -> dict[str, str]:
    """The environment of a user: no ANSIBLE_CONFIG (the checkout's would put .collections on the path)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "GALAXY_IMPORTER_"))}
    env["ANSIBLE_NOCOLOR"] = "1"
    return env


@pytest.fixture(scope="session")
def tools() -> Path:
    """The bin/ of the packaging venv, made (or remade) when tests/requirements-package.txt changed."""
    stamp = VENV / ".requirements.sha256"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text(encoding="utf-8") != digest:
        shutil.rmtree(VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)], check=True
        )
        stamp.write_text(digest, encoding="utf-8")
    return VENV / "bin"


@pytest.fixture(scope="session")
def tarball(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build")
    subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-galaxy"),
            "collection",
            "build",
            "--output-path",
            str(out),
            "--force",
            str(ROOT),
        ],
        cwd=out,
        env=_env_without_checkout_config(),
        check=True,
        capture_output=True,
        text=True,
    )
    return out / TARBALL_NAME


@pytest.fixture(scope="session")
def installed(tarball, tmp_path_factory) -> Path:
    """A collections path holding the installed tarball (dependencies not installed: the venv has them)."""
    path = tmp_path_factory.mktemp("collections")
    subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-galaxy"),
            "collection",
            "install",
            "--no-deps",
            "--force",
            "-p",
            str(path),
            str(tarball),
        ],
        cwd=path,
        env=_env_without_checkout_config(),
        check=True,
        capture_output=True,
        text=True,
    )
    return path


def test_tarball_holds_only_what_users_run(tarball):
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    assert {name.split("/")[0] for name in names} == SHIPPED
    for role in (path.name for path in (ROOT / "roles").iterdir() if path.is_dir()):
        assert "roles/%s/README.md" % role in names  # Galaxy refuses a role without one
    for needed in (
        "meta/runtime.yml",
        "meta/execution-environment.yml",
        "meta/ee-requirements.txt",
        "bindep.txt",
        "COPYING",
        "changelogs/changelog.yaml",
    ):
        assert needed in names
    assert not [name for name in names if "__pycache__" in name or name.endswith((".pyc", ".tar.gz"))]
    info = manifest["collection_info"]
    for key in ("repository", "documentation", "homepage", "issues"):
        assert re.match(r"https://github\.com/megapool/megapool\.aws(/|$)", info[key] or ""), (key, info[key])
    assert info["license"] == ["GPL-3.0-or-later"]


def test_every_cited_license_file_ships():
    header = re.compile(r"\(see (\w+) or https://www\.gnu\.org")
    cited = {
        match for path in (ROOT / "plugins").rglob("*.py") for match in header.findall(path.read_text(encoding="utf-8"))
    }
    assert cited == {"COPYING"}
    assert "GNU GENERAL PUBLIC LICENSE" in (ROOT / "COPYING").read_text(encoding="utf-8").splitlines()[0]


def test_readmes_link_absolutely():
    """Galaxy renders README.md outside the repository: a relative link there goes nowhere."""
    for readme in [ROOT / "README.md", *sorted((ROOT / "roles").glob("*/README.md"))]:
        links = re.findall(r"\]\(([^)]+)\)", readme.read_text(encoding="utf-8"))
        relative = [link for link in links if not link.startswith(("https://", "http://", "#", "mailto:"))]
        assert not relative, "%s has relative links: %s" % (readme.relative_to(ROOT), relative)


def test_galaxy_importer_accepts_the_tarball(tools, tarball, tmp_path):
    env = _env_without_checkout_config()
    env.update(
        PATH="%s:%s" % (tools, env.get("PATH", "")),
        GALAXY_IMPORTER_CONFIG=str(tmp_path / "none.cfg"),  # only the settings below, no /etc file
        GALAXY_IMPORTER_RUN_ANSIBLE_TEST="false",
        GALAXY_IMPORTER_LOCAL_IMAGE_DOCKER="false",
        GALAXY_IMPORTER_RUN_ANSIBLE_DOC="true",
        GALAXY_IMPORTER_RUN_ANSIBLE_LINT="true",
        GALAXY_IMPORTER_OFFLINE_ANSIBLE_LINT="true",
        GALAXY_IMPORTER_CHECK_CHANGELOG="true",
        GALAXY_IMPORTER_TMP_ROOT_DIR=str(tmp_path),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
    )
    result = subprocess.run(
        [str(tools / "python"), "-m", "galaxy_importer.main", str(tarball)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert "Importer processing completed successfully" in output, output[-5000:]
    assert "The import failed" not in output and "No role readme found" not in output


def test_ee_dependencies_of_the_installed_collection_are_ranges_without_the_emulator(tools, installed):
    result = subprocess.run(
        [str(tools / "ansible-builder"), "introspect", "--sanitize", str(installed)],
        env=_env_without_checkout_config(),
        capture_output=True,
        text=True,
        check=True,
    )
    data = yaml.safe_load(result.stdout)
    python = sorted(line.split("#")[0].strip() for line in data["python"])
    assert python == ["boto3>=1.34.13", "botocore>=1.34.13"], result.stdout
    assert [line.split("#")[0].strip() for line in data["system"]] == [
        "openssh-clients [platform:rpm]",
        "openssh-client [platform:dpkg]",
    ]
    assert "moto" not in result.stdout and "==" not in result.stdout


def test_ansible_builder_create_writes_the_build_context(tools, tmp_path):
    context = tmp_path / "context"
    result = subprocess.run(
        [str(tools / "ansible-builder"), "create", "--file", "execution-environment.yml", "--context", str(context)],
        cwd=ROOT / "execution-environment",
        env=_env_without_checkout_config(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    build_file = next(path for path in (context / "Containerfile", context / "Dockerfile") if path.exists())
    text = build_file.read_text(encoding="utf-8")
    assert "quay.io/centos/centos:stream9" in text
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text(encoding="utf-8"))
    assert galaxy["collections"][0]["name"] == "megapool.aws"


def test_the_awx_project_of_the_docs_runs_the_installed_playbooks(installed, tmp_path):
    """docs/awx.md, section 2-3, made as a user would: the one-line wrappers of its project tree and its
    inventory/hosts.yml; every job template's playbook of section 5 exists; each parses against the installed tarball,
    and the inventory gives the regions group its hosts."""
    page = (ROOT / "docs" / "awx.md").read_text(encoding="utf-8")
    wrappers = dict(
        re.findall(r"^  (\w+\.yml) +# - ansible\.builtin\.import_playbook: (megapool\.aws\.\w+)$", page, re.M)
    )
    assert {"site.yml", "deploy.yml", "verify.yml", "rollback.yml", "status.yml"} <= set(wrappers), wrappers
    templates = re.findall(r"^\| \w[\w ]* \| `(\w+\.yml)` \|", page, re.M)
    assert templates and set(templates) <= set(wrappers), (templates, wrappers)
    hosts = re.search(r"`inventory/hosts.yml`:\n\n```yaml\n(.*?)```", page, re.S)
    assert hosts, "docs/awx.md shows no inventory/hosts.yml"
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "hosts.yml").write_text(hosts.group(1), encoding="utf-8")
    for name, playbook in wrappers.items():
        (tmp_path / name).write_text("---\n- ansible.builtin.import_playbook: %s\n" % playbook, encoding="utf-8")
    env = dict(_env_without_checkout_config(), ANSIBLE_COLLECTIONS_PATH=str(installed))
    bin_dir = Path(sys.executable).parent
    graph = subprocess.run(
        [str(bin_dir / "ansible-inventory"), "-i", "inventory/hosts.yml", "--graph", "regions"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert graph.returncode == 0 and "eu-north-1" in graph.stdout and "us-east-1" in graph.stdout, (
        graph.stdout + graph.stderr
    )
    for name in sorted(wrappers):
        check = subprocess.run(
            [str(bin_dir / "ansible-playbook"), "-i", "inventory/hosts.yml", "--syntax-check", name],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, name + ":\n" + check.stdout[-2000:] + check.stderr[-2000:]
        assert "[WARNING]" not in check.stderr, name + ":\n" + check.stderr[-2000:]
