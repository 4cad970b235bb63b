"""Membership of a consortium as operations (合併, 加入, 離脱): list, add, offboard, remove.

The stack config (``Pulumi.<stack>.yaml``) is the membership: ``add`` and ``remove`` edit it in
place, keeping its comments and every other member's entry (and so its ``address_slot``: its
networks and database never move), and validate the whole result exactly as ``pulumi preview``
does (stacks.config.load) before anything is written. ``offboard`` is the hand-over a leaving
member is owed at contract end (policy Guideline 6): a final full backup, verified, and the
intermediate standard layout (中間標準レイアウト) files of its three units in UTF-8 and cp932,
with a manifest of their digests; ``remove`` refuses a member without that manifest unless told
that nothing is to be handed over. The next ``pulumi up`` then deletes the member's resources and
secrets and touches no other member (tests/stack/test_live.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVICES = ("residents_registry", "tax", "nhi")
ENCODINGS = ("utf-8", "cp932")
MANIFEST = "handover.json"


class MemberError(ValueError):
    """A membership change that cannot be made; ``key`` names what is wrong. Nothing was written."""

    def __init__(self, key: str, reason: str) -> None:
        self.key, self.reason = key, reason
        super().__init__(f"{key}: {reason}")


def _yaml():
    from ruamel.yaml import YAML

    y = YAML()  # round trip: comments, order and quoting of the file are kept
    y.preserve_quotes = True
    y.width = 4096
    return y


@dataclass
class StackFile:
    """One stack's config file, loaded for a round-trip edit."""

    stack: str
    path: Path
    doc: Any

    @classmethod
    def open(cls, stack: str, path: Path | None = None) -> "StackFile":
        from municloud_ops.images import REPO_ROOT

        path = path or REPO_ROOT / f"Pulumi.{stack}.yaml"
        if not path.is_file():
            raise MemberError("--stack", f"no config file {path}")
        return cls(stack, path, _yaml().load(path.read_text(encoding="utf-8")))

    @property
    def entries(self) -> list:
        from stacks.config import NAMESPACE

        return self.doc["config"][f"{NAMESPACE}:municipalities"]

    def validated(self):
        """The StackConfig of the file as it is now (raises MemberError naming the key)."""
        from stacks.config import NAMESPACE, ConfigError, load

        buf = io.StringIO()
        _yaml().dump(self.doc, buf)
        import yaml

        raw = (yaml.safe_load(buf.getvalue()) or {}).get("config", {})
        prefix = f"{NAMESPACE}:"
        try:
            # the members' check: the engines are the program's (`pulumi preview`)
            return load(self.stack, {k[len(prefix):]: v for k, v in raw.items() if k.startswith(prefix)},
                        engines=False)
        except ConfigError as exc:
            raise MemberError(exc.key, exc.reason) from None

    def write(self) -> None:
        self.validated()  # never write a config `pulumi preview` would refuse
        buf = io.StringIO()
        _yaml().dump(self.doc, buf)
        tmp = self.path.with_suffix(".yaml.tmp")
        tmp.write_text(buf.getvalue(), encoding="utf-8")
        tmp.replace(self.path)


def list_members(stack: str, path: Path | None = None) -> list[dict[str, Any]]:
    """Every member with its address slot and the subnets that slot gives at each site."""
    cfg = StackFile.open(stack, path).validated()
    return [{"lgcode": m.lgcode, "name": m.name, "population": m.population, "address_slot": m.address_slot,
             "subnets": {site: cfg.subnet(site, m.address_slot) for site in cfg.sites}}
            for m in cfg.municipalities]


def add_member(stack: str, lgcode: str, name: str, population: int, *, like: str | None = None,
               params: dict[str, Any] | None = None, address_slot: int | None = None,
               path: Path | None = None) -> str:
    """Add a member; its parameters come from ``params`` (a member entry's keys other than lgcode,
    name, population, address_slot) or are copied from the member ``like``. Returns a sentence."""
    import copy

    from municloud.ids import IdentifierError, validate_lgcode
    from stacks.config import free_slots

    try:
        code = validate_lgcode(lgcode, field="lgcode")
    except IdentifierError as exc:
        raise MemberError("--lgcode", exc.reason) from None
    f = StackFile.open(stack, path)
    entries = f.entries
    if any(str(e["lgcode"]) == code for e in entries):
        raise MemberError("--lgcode", f"{code} is already a member of {stack}")
    if (like is None) == (params is None):
        raise MemberError("--like", "give exactly one of --like (a member whose parameters to copy) or --params")
    if like is not None:
        template = next((e for e in entries if str(e["lgcode"]) == like), None)
        if template is None:
            raise MemberError("--like", f"{like} is not a member of {stack}")
        params = {k: copy.deepcopy(v) for k, v in template.items()
                  if k not in ("lgcode", "name", "population", "address_slot")}
    taken = [int(e["address_slot"]) for e in entries if "address_slot" in e]
    free = free_slots(taken)
    slot = address_slot if address_slot is not None else (free[0] if free else None)
    if slot is None:
        raise MemberError("address_slot", f"no free address slot left in {stack} (all are taken)")
    if slot in taken:
        raise MemberError("--address-slot", f"slot {slot} belongs to another member")
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.scalarstring import SingleQuotedScalarString

    entry = CommentedMap()
    entry["lgcode"] = SingleQuotedScalarString(code)  # all digits: quoted, or a YAML reader makes it a number
    entry["name"] = name
    entry["population"] = population
    entry["address_slot"] = slot
    for k, v in params.items():
        entry[k] = v
    entries.append(entry)
    cfg = f.validated()
    f.write()
    return (f"added {code} {name} to stack {stack} at address slot {slot} "
            f"({', '.join(cfg.subnet(s, slot) for s in cfg.sites)}); `pulumi preview --stack {stack} "
            f"--policy-pack policies` shows what it creates")


def remove_member(stack: str, lgcode: str, *, handover: Path | None = None, no_handover: bool = False,
                  path: Path | None = None) -> str:
    """Remove a member from the config; the other members keep their slots. Refused without the
    hand-over manifest of ``offboard`` for this member unless ``no_handover``. Returns a sentence."""
    f = StackFile.open(stack, path)
    entries = f.entries
    index = next((i for i, e in enumerate(entries) if str(e["lgcode"]) == lgcode), None)
    if index is None:
        raise MemberError("--lgcode", f"{lgcode} is not a member of {stack}")
    if len(entries) == 1:
        raise MemberError("--lgcode", f"{lgcode} is the last member of {stack}: destroy the stack instead")
    if not no_handover:
        if handover is None:
            raise MemberError("--handover", f"offboard {lgcode} first (`municloud member offboard`), then "
                                            f"give its directory; --no-handover removes it without one")
        check_handover(handover, stack, lgcode)
    del entries[index]
    f.write()
    return (f"removed {lgcode} from stack {stack} ({len(entries)} members left, their address slots unchanged); "
            f"`pulumi up --stack {stack}` deletes its resources and secrets")


def check_handover(directory: Path, stack: str, lgcode: str) -> dict[str, Any]:
    """The manifest of an offboarding of ``lgcode``: present, for this stack and member, every file
    there with its recorded digest, the final backup verified."""
    path = directory / MANIFEST
    if not path.is_file():
        raise MemberError("--handover", f"no {MANIFEST} in {directory}")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("stack") != stack or manifest.get("lgcode") != lgcode:
        raise MemberError("--handover", f"{path} is the hand-over of {manifest.get('lgcode')} in "
                                        f"{manifest.get('stack')}, not of {lgcode} in {stack}")
    for item in manifest.get("files", []):
        data = (directory / item["file"]).read_bytes() if (directory / item["file"]).is_file() else None
        if data is None or hashlib.sha256(data).hexdigest() != item["sha256"]:
            raise MemberError("--handover", f"{item['file']} is missing or changed since the offboarding")
    if len(manifest.get("files", [])) != len(SERVICES) * len(ENCODINGS) or not manifest.get("backup", {}).get("verified"):
        raise MemberError("--handover", f"{path} lacks a layout file or the verified final backup")
    return manifest


def offboard(stack: str, lgcode: str, out: Path, *, outputs: dict[str, Any], inventory=None,
             progress=print) -> str:
    """Hand a leaving member its data: final full backup + verification, then the layout files of
    its three units (UTF-8 and cp932) exported through the frontdoor, and ``handover.json``.

    ``outputs`` are the stack's outputs (frontdoor_url, ca_cert_pem, token_private_keys). Each step
    is reported through ``progress`` with its elapsed time; returns the closing sentence."""
    from municloud import auth
    from municloud.layout import load_layout
    from municloud.layout.transfer import export_file
    from municloud_ops.backup.pgbackrest import run_backup
    from municloud_ops.backup.verify import verify
    from municloud_ops.dr.inventory import Inventory

    t0 = time.monotonic()
    keys = outputs.get("token_private_keys") or {}
    if lgcode not in keys:
        raise MemberError("--lgcode", f"{lgcode} is not a member of stack {stack}")
    out.mkdir(parents=True, exist_ok=True)
    inv = inventory or Inventory(stack)
    step = run_backup(inv, lgcode, "full",
                      progress=lambda line: progress(f"[{time.monotonic() - t0:6.1f}s] {line}"))
    progress(f"[{time.monotonic() - t0:6.1f}s] {step.sentence}")
    checked = verify(inv, lgcode)
    progress(f"[{time.monotonic() - t0:6.1f}s] {checked.sentence}")
    ca = out / ".consortium-ca.crt"
    ca.write_text(outputs["ca_cert_pem"], encoding="utf-8")
    files = []
    try:
        for unit in SERVICES:
            token = auth.issue_token(keys[lgcode], lgcode, "offboarding", "data_migration", unit, 600)
            for encoding in ENCODINGS:
                layout = load_layout(unit)
                result = export_file(layout, f"{outputs['frontdoor_url']}/{lgcode}/{unit}", token,
                                     encoding=encoding, verify=str(ca))
                name = f"{lgcode}-{unit}.{encoding}.csv"
                (out / name).write_bytes(result.data)
                (out / name).chmod(0o600)  # carries 個人番号: the hand-over medium's owner only
                files.append({"file": name, "unit": unit, "area": layout.area, "encoding": encoding,
                              "rows": result.rows, "sha256": hashlib.sha256(result.data).hexdigest()})
                progress(f"[{time.monotonic() - t0:6.1f}s] {unit}: {result.message}")
    finally:
        ca.unlink(missing_ok=True)
    manifest = {"stack": stack, "lgcode": lgcode,
                "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "backup": {"sentence": step.sentence, "verified": True, "verification": checked.sentence},
                "files": files}
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return (f"offboarded {lgcode} of {stack} in {time.monotonic() - t0:.1f} s: final backup verified, "
            f"{len(files)} layout files in {out}; next `municloud member remove --stack {stack} "
            f"--lgcode {lgcode} --handover {out}`, then `pulumi up`")
