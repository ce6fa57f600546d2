"""`skillc publish`, `pull`, `search`, `versions`, `verify`, `yank`, and the `keys` and `registry` command groups.

They are added to the main app by `register(app)`.

Example:
    $ skillc registry serve --root registry/ --token-file registry/tokens
    $ skillc publish skills/invoice-total --registry http://127.0.0.1:8700 --tag prod --sign-key keys/team.key
    $ skillc pull invoice-total:prod --registry http://127.0.0.1:8700 --out skills/ --require-signed
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from skillc.cli.output import console, err, errors_exit, stop_on_signals
from skillc.skills.skill import Skill

share_app_commands = typer.Typer()  # a holder: register() copies its commands onto the main app

RegistryOpt = Annotated[str | None, typer.Option("--registry", help="registry: http(s)://…, oci://HOST/NAMESPACE or a directory; default $SKILLC_REGISTRY")]
TokenFileOpt = Annotated[Path | None, typer.Option("--token-file", help="file holding the publish token (default $SKILLC_REGISTRY_TOKEN)")]
TrustOpt = Annotated[Path | None, typer.Option("--trust", help="trust store of public keys per namespace (default $SKILLC_TRUST or the user config dir)")]


@share_app_commands.command("publish")
def publish_cmd(
    skill_dir: Annotated[Path, typer.Argument(help="skill folder")],
    registry: RegistryOpt = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="also point this tag at the new version; repeat it")] = None,
    version: Annotated[str | None, typer.Option("--version", help="publish as this version (written into skill.json first)")] = None,
    sign_key: Annotated[Path | None, typer.Option("--sign-key", help="Ed25519 private key (skillc keys generate)")] = None,
    token_file: TokenFileOpt = None,
) -> None:
    """Publish a skill folder to a registry as NAME@VERSION (immutable; --tag moves tags such as prod)."""
    from skillc.registry.client import open_registry, publish, read_token

    with errors_exit():
        target = open_registry(registry, read_token(token_file))
        info = publish(skill_dir, target, version=version, tags=tag or [], sign_key=sign_key)
    signed = f"signed by {info.signed_by}" if info.signed_by else "unsigned"
    console.print(f"published {info.name}@{info.version} ({info.digest}, {info.size:,} bytes, {signed}) to {target.location}")


@share_app_commands.command("pull")
def pull_cmd(
    ref: Annotated[str, typer.Argument(help="NAME, NAME@1.2.0, NAME@sha256:…, NAME:TAG, or oci://HOST/NAMESPACE/NAME:1.2.0")],
    registry: RegistryOpt = None,
    out: Annotated[Path, typer.Option("--out", help="where the skill folder goes (OUT/NAME)")] = Path("skills"),
    lock: Annotated[Path | None, typer.Option("--lock", help="lock file pinning name → version → digest")] = None,
    update_lock: Annotated[bool, typer.Option("--update-lock", help="write what was pulled into the lock")] = False,
    require_signed: Annotated[bool | None, typer.Option("--require-signed/--allow-unsigned", help="refuse unsigned or untrusted skills (default $SKILLC_REQUIRE_SIGNED)")] = None,
    trust: TrustOpt = None,
) -> None:
    """Fetch a skill, verify it (archive digest, safe extraction, every file, signature) and unpack it.

    With ./skills.lock present (or --lock), every pull must match the version and digest it pins.
    """
    from skillc.registry.client import LOCK_FILE, open_registry, pull
    from skillc.registry.signing import TrustStore

    with errors_exit():
        lock = lock or (Path(LOCK_FILE) if Path(LOCK_FILE).exists() else None)
        source = open_registry(registry) if registry or not ref.startswith("oci://") else None
        folder = pull(ref, source, out, lock=lock, update_lock=update_lock, require_signed=require_signed,
                      trust=TrustStore(trust) if trust else None)
        skill = Skill.load(folder)
    origin = skill.origin or {}
    signed = f"signed by {origin.get('signed_by')}" if origin.get("signed_by") else "signature not checked (unsigned or untrusted key)"
    console.print(f"pulled {skill.name}@{skill.spec.version} ({skill.digest}) into {folder} · {signed}")
    if origin.get("yanked"):
        err.print(f"[bold yellow]warning:[/] {skill.name}@{skill.spec.version} was yanked: {origin['yanked']} "
                  "(pulled because it was pinned; move to another version)", highlight=False)


@share_app_commands.command("yank")
def yank_cmd(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION")],
    reason: Annotated[str, typer.Option("--reason", help="why: shown to everyone who still pulls it by its pin")],
    registry: RegistryOpt = None,
    token_file: TokenFileOpt = None,
) -> None:
    """Yank a version (PEP 592): unpinned pulls and `latest` skip it; a pin or a lock still gets it, with a warning."""
    from skillc.core.errors import InvalidInputError
    from skillc.registry.client import open_registry, parse_ref, read_token

    with errors_exit():
        name, version = parse_ref(ref)
        if version is None or "@" not in ref:
            raise InvalidInputError(f"{ref!r}: name the version to yank, e.g. {name}@1.2.0")
        target = open_registry(registry, read_token(token_file))
        target.yank(name, version, reason)
    console.print(f"yanked {name}@{version} in {target.location}: {reason}")


@share_app_commands.command("search")
def search_cmd(query: Annotated[str, typer.Argument(help="words to find in names and descriptions")] = "",
               registry: RegistryOpt = None) -> None:
    """Find skills in a registry."""
    from skillc.registry.client import open_registry

    with errors_exit():
        found = open_registry(registry).search(query)
    table = Table("skill", "latest", "description", title=f"{len(found)} skill(s)")
    for s in found:
        table.add_row(s["name"], s.get("version", ""), s.get("description", ""))
    console.print(table)


@share_app_commands.command("versions")
def versions_cmd(name: Annotated[str, typer.Argument(help="skill name")], registry: RegistryOpt = None) -> None:
    """Every published version of a skill, with its digest and signer, and the tags."""
    from skillc.registry.client import open_registry

    with errors_exit():
        data = open_registry(registry).versions(name)
    table = Table("version", "digest", "published", "signed by", "tags", "yanked", title=name)
    tags: dict[str, list[str]] = {}
    for t, v in data.get("tags", {}).items():
        tags.setdefault(v, []).append(t)
    for v, info in sorted(data.get("versions", {}).items()):
        table.add_row(v, info["digest"], info["published_at"], info.get("signed_by") or "-", ", ".join(tags.get(v, [])),
                      (info.get("yanked") or {}).get("reason", ""))
    console.print(table)


@share_app_commands.command("verify")
def verify_cmd(
    skill_dir: Annotated[Path, typer.Argument(help="skill folder")],
    require_signed: Annotated[bool, typer.Option("--require-signed", help="fail when the folder has no signature")] = False,
    trust: TrustOpt = None,
) -> None:
    """Verify a skill folder: every file against its sha256 manifest, and its signature when it has one."""
    from skillc.registry.client import verify
    from skillc.registry.signing import TrustStore

    with errors_exit():
        result = verify(skill_dir, require_signed=require_signed, trust=TrustStore(trust) if trust else None)
    origin = result["origin"] or {}
    where = f" · pulled from {origin.get('registry')} as {origin.get('version')}" if origin else ""
    signed = f"signed by {result['signed_by']}" if result["signed_by"] else "unsigned"
    console.print(f"ok: {result['name']}@{result['version']} {result['digest']} · {result['files']} files verified · {signed}{where}")


keys_app = typer.Typer(no_args_is_help=True, help="Ed25519 keys that sign published skills, and the keys you trust.")


@keys_app.command("generate")
def keys_generate_cmd(stem: Annotated[Path, typer.Argument(help="writes STEM.key (private, mode 600) and STEM.pub")]) -> None:
    """Make a signing key pair."""
    from skillc.registry.signing import generate_keys, key_id, load_public

    with errors_exit():
        private, public = generate_keys(stem)
    console.print(f"wrote {private} (keep it secret) and {public} · key id {key_id(load_public(public))}")


@keys_app.command("trust")
def keys_trust_cmd(
    public_key: Annotated[Path, typer.Argument(help="a .pub file")],
    namespace: Annotated[str, typer.Option(help="skill names this key may sign (a glob, e.g. acme-*)")] = "*",
    trust: TrustOpt = None,
) -> None:
    """Trust a public key for skills whose names match the namespace."""
    from skillc.registry.client import default_trust
    from skillc.registry.signing import TrustStore

    with errors_exit():
        store = TrustStore(trust) if trust else default_trust()
        kid = store.add(public_key, namespace)
    console.print(f"trusting key {kid} for {namespace!r} in {store.path}")


@keys_app.command("revoke")
def keys_revoke_cmd(
    key: Annotated[str, typer.Argument(help="a key id (16 hex digits) or its .pub file")],
    reason: Annotated[str, typer.Option("--reason", help="why (e.g. the private key leaked)")] = "",
    trust: TrustOpt = None,
) -> None:
    """Revoke a key: from now on a signature by it is refused, in every namespace, whatever it signed before."""
    from skillc.registry.client import default_trust
    from skillc.registry.signing import TrustStore

    with errors_exit():
        store = TrustStore(trust) if trust else default_trust()
        kid = store.revoke(key, reason)
    console.print(f"revoked key {kid} in {store.path}")


registry_app = typer.Typer(no_args_is_help=True, help="Run a skill registry.")


@registry_app.command("serve")
def registry_serve_cmd(
    root: Annotated[str, typer.Option("--root", help="the registry directory, or s3://BUCKET/PREFIX (AWS_* variables: credentials, AWS_ENDPOINT_URL)")],
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port (0: a free one)")] = 8700,
    token_file: Annotated[Path | None, typer.Option("--token-file", help="sha256 hashes of the tokens that may publish")] = None,
) -> None:
    """Serve a registry: anonymous reads, token-guarded publishing, a browsable index at / (Ctrl-C stops it)."""
    from skillc.registry.server import RegistryServer

    with errors_exit():
        server = RegistryServer(root, host=host, port=port, token_file=token_file).start()
    stop_on_signals()
    console.print(f"registry at {server.base_url} · root {root} · publishing {'needs a token' if token_file else 'disabled (no --token-file)'}")
    try:
        while server.thread.is_alive():
            server.thread.join(timeout=1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    console.print("stopped")


@registry_app.command("token")
def registry_token_cmd(
    token_file: Annotated[Path, typer.Option("--token-file", help="the server's token-hash file (appended to)")],
) -> None:
    """Make a publish token: its hash goes into the server's token file, the token is printed once."""
    from skillc.registry.server import new_token

    with errors_exit():
        token = new_token(token_file)
    console.print(token, highlight=False)
    err.print(f"[dim]its sha256 is in {token_file}; give the token to publishers (SKILLC_REGISTRY_TOKEN), it is not stored[/]")




def register(app: typer.Typer) -> None:
    """Add the sharing commands and the `keys` and `registry` groups to `app`."""
    app.registered_commands += share_app_commands.registered_commands
    app.add_typer(keys_app, name="keys")
    app.add_typer(registry_app, name="registry")
