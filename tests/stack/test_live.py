"""The program for real, through the Automation API, on a throwaway stack.

One module-scoped stack (own local backend under a temp dir, own network range and frontdoor
port, so it never touches `dev`): up from nothing → all healthy; preview → no changes; +1
municipality → only its resources are created (and the gateway re-rendered for the new route);
-1 → only those deleted; destroy → nothing labelled for the stack is left.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import time

import docker
import pytest
import yaml

from stacks.automation import ScratchStack, free_network_base, free_port, stack_config

pytestmark = [pytest.mark.live, pytest.mark.stack]

FOURTH = "053481"  # 三種町
# the DR hub holds the same key registry as the primary hub (pilot light, stopped)
SHARED_TOUCHED = {"primary-gateway-config", "primary-gateway", "primary-hub", "dr-hub",
                  "dr-gateway-config", "dr-gateway", "dr-backup-repo-config", "dr-backup-repo",
                  # the status page's member list (a file it reads again for each page)
                  "primary-status"}
# every member's residents_registry trusts the other members' residents_registry keys (F-5): its
# key registry file changes when a member joins or leaves
PEERS_TOUCHED = {f"{site}-{code}-residents-registry" for site in ("primary", "dr")
                 for code in ("053031", "053279", "053465", "053481")}
# ... all of which take the change in place (reload / restart / a re-read key registry), never by
# replacement: the other members' services keep running
IN_PLACE = {"primary-gateway", "dr-gateway", "dr-backup-repo", "primary-hub", "dr-hub"} | {
    n for n in PEERS_TOUCHED if "053481" not in n}  # the dev members' (053481 is the one joining)


ISOLATION_OPTION = "com.docker.network.bridge.inhibit_ipv4"


def _the_isolation_default_replaces_nothing_on_an_older_stack(scratch, stack, base) -> None:
    """A stack made with its tenant and hub networks holding the host's address (as every stack
    was before host isolation became the default) is upgraded to the default: the preview changes
    nothing, no network and no database is replaced. The twin: ``engine_host_isolation: true``
    (enforced) plans the replacement of its tenant, hub and monitoring networks. The stack stays at the default afterwards."""
    key = "municloud:engine_host_isolation"
    assert base.pop(key) is False
    scratch.write_config(base)
    events: list = []
    stack.preview(on_output=lambda _l: None, on_event=events.append)
    assert not _ops(events), _ops(events)
    scratch.write_config({**base, key: True})
    events = []
    stack.preview(on_output=lambda _l: None, on_event=events.append)
    replaced = {n for op, names in _ops(events).items() if op in ("replace", "create-replacement") for n in names}
    cfg_codes = [m["lgcode"] for m in base["municloud:municipalities"]]
    networks = {f"{site}-{code}-net" for site in ("primary", "dr") for code in cfg_codes} | {
        f"{site}-{kind}" for site in ("primary", "dr") for kind in ("hub-net", "monitoring")}
    assert networks <= replaced, replaced
    scratch.write_config(base)


def _labelled(client, stack: str) -> dict[str, list[str]]:
    f = {"label": f"municloud.stack={stack}"}
    return {"containers": [c.name for c in client.containers.list(all=True, filters=f)],
            "networks": [n.name for n in client.networks.list(filters=f)],
            "volumes": [v.name for v in client.volumes.list(filters=f)]}


def _images_current(stack) -> bool:
    """True when every Image resource's tag is the one its build context gives right now."""
    from municloud_ops import images

    for res in stack.export_stack().deployment["resources"]:
        if res["type"].endswith("municloud:Image"):
            name = res["outputs"]["image"]
            if f"{images.IMAGE_PREFIX}/{name}:{images.build_context(name).digest()}" != res["outputs"]["ref"]:
                return False
    return True


def _image_driven(events: list) -> set[str]:
    """URNs whose change is explained by a new image tag (a replace keyed on ``image`` only)."""
    return {e.resource_pre_event.metadata.urn for e in events
            if e.resource_pre_event is not None
            and (e.resource_pre_event.metadata.type.endswith(":Image")
                 or set(e.resource_pre_event.metadata.keys or []) == {"image"})}


def _ops(events: list) -> dict[str, set[str]]:
    """Resource names by operation, leaving out what a new image tag explains (concurrent edits)."""
    explained = _image_driven(events)
    ops: dict[str, set[str]] = {}
    for e in events:
        pre = e.resource_pre_event
        if pre is None or pre.metadata.op.value in ("same", "read"):
            continue
        if pre.metadata.urn in explained and pre.metadata.op.value != "create":
            continue
        if pre.metadata.type.startswith("pulumi:providers:"):
            continue  # the dynamic-provider plugin's own default provider, not infrastructure
        ops.setdefault(pre.metadata.op.value, set()).add(pre.metadata.urn.rsplit("::", 1)[-1])
    return ops


LEAVER = "053279"  # 上小阿仁村: slot 2, between 053031 and 053465


def _seed(client, name: str, code: str, population: int = 40) -> None:
    """Seed data into a member's three services, inside the site (docs/operator-guide.md)."""
    for svc in ("residents_registry", "tax", "nhi"):
        c = client.containers.get(f"mc-{name}-primary-{code}-{svc.replace('_', '-')}")
        rc, out = c.exec_run(["python", "-m", f"services.{svc}.seed", "--population", str(population),
                              "--seed", "7"], user="app")
        assert rc == 0, out.decode(errors="replace")[-2000:]


def _offboard_a_member_from_the_middle_and_hand_its_data_to_a_fresh_one(scratch, stack, client, name: str) -> None:
    """Offboarding (policy Guideline 6: data handed over at contract end) of a member in the middle
    of the list: a verified final backup and its three layout files in both encodings; its removal
    deletes only its resources (no other member's database restarted, its address slot moved by
    nobody); a fresh member takes the files and exports them again byte-identically."""
    from municloud.layout import load_layout
    from municloud.layout.transfer import export_file, import_file
    from municloud_ops.dr.inventory import Inventory
    from municloud_ops.member import add_member, list_members, offboard, remove_member
    from municloud import auth

    config_file = scratch.work_dir / f"Pulumi.{name}.yaml"
    _seed(client, name, LEAVER)
    outputs = {k: v.value for k, v in stack.outputs().items()}
    handover = scratch.work_dir / "handover"
    sentence = offboard(name, LEAVER, handover, outputs=outputs, inventory=Inventory(name), progress=lambda _s: None)
    assert sentence.startswith(f"offboarded {LEAVER} of {name}"), sentence
    manifest = json.loads((handover / "handover.json").read_text(encoding="utf-8"))
    assert manifest["backup"]["verified"] is True
    assert sorted((f["unit"], f["encoding"]) for f in manifest["files"]) == sorted(
        (u, e) for u in ("residents_registry", "tax", "nhi") for e in ("utf-8", "cp932"))
    assert all(f["rows"] > 0 for f in manifest["files"]), manifest["files"]

    slots = {m["lgcode"]: m["address_slot"] for m in list_members(name, config_file)}
    others = {c.name: c.attrs["State"]["StartedAt"] for c in client.containers.list(
        all=True, filters={"label": f"municloud.stack={name}"})
        if c.labels["municloud.lgcode"] not in (LEAVER, "shared") and c.status == "running"}
    remove_member(name, LEAVER, handover=handover, path=config_file)
    events: list = []
    stack.up(on_output=lambda _l: None, on_event=events.append)
    ops = _ops(events)
    assert ops["delete"] and all(LEAVER in urn for urn in ops["delete"]), ops["delete"]
    assert not ops.get("create"), ops
    touched = ops.get("update", set()) | ops.get("replace", set()) | ops.get("create-replacement", set())
    assert touched <= SHARED_TOUCHED | PEERS_TOUCHED, touched
    assert not touched & {n for n in touched if "postgres" in n or "standby" in n or "-net" in n}, touched
    assert {m["lgcode"]: m["address_slot"] for m in list_members(name, config_file)} == \
        {k: v for k, v in slots.items() if k != LEAVER}
    now = {c.name: c.attrs["State"]["StartedAt"] for c in client.containers.list(
        all=True, filters={"label": f"municloud.stack={name}"}) if c.name in others}
    assert now == others  # every other member's containers kept running: not replaced, not restarted
    left = _labelled(client, name)
    assert not [o for kind in left.values() for o in kind if LEAVER in o], left
    assert LEAVER not in json.dumps([r["urn"] for r in stack.export_stack().deployment["resources"]])

    # a fresh member of the same code (a new vendor's empty system) takes the hand-over
    assert "address slot 2 " in add_member(name, LEAVER, "上小阿仁村", 2697, like="053031", path=config_file)
    assert stack.up(on_output=lambda _l: None).summary.result == "succeeded"
    outputs = {k: v.value for k, v in stack.outputs().items()}
    ca = scratch.work_dir / "consortium-ca.crt"
    ca.write_text(outputs["ca_cert_pem"], encoding="utf-8")
    handed = {(f["unit"], f["encoding"]): (handover / f["file"]).read_bytes() for f in manifest["files"]}
    for unit in ("residents_registry", "tax", "nhi"):
        layout, url = load_layout(unit), f"{outputs['frontdoor_url']}/{LEAVER}/{unit}"
        token = auth.issue_token(outputs["token_private_keys"][LEAVER], LEAVER, "lifecycle", "data_migration",
                                 unit, 300)
        import_file(layout, handed[(unit, "utf-8")], url, token, encoding="utf-8", verify=str(ca))
        for encoding in ("utf-8", "cp932"):
            again = export_file(layout, url, token, encoding=encoding, verify=str(ca))
            assert again.data == handed[(unit, encoding)], f"{unit} {encoding} differs after the hand-over"


def _databases(client, name: str) -> dict[str, tuple[str, str]]:
    """Every PostgreSQL container of the stack (primaries, standbys, the hub's): id and start time."""
    return {c.name: (c.id, c.attrs["State"]["StartedAt"]) for c in client.containers.list(
        all=True, filters={"label": f"municloud.stack={name}"})
        if c.labels.get("municloud.component") in ("postgres", "standby", "hub_postgres")}


def _refresh_shows_nothing_then_repairs_hand_drift(stack, client, name: str) -> None:
    """`pulumi refresh` on a fresh stack changes nothing; hand drift (a service container removed,
    one renamed, one's restart policy edited) is shown by refresh and repaired by `up`, touching
    only those three containers: no database, standby or other container is replaced or restarted."""
    events: list = []
    preview = stack.preview_refresh(on_output=lambda _l: None, on_event=events.append)
    assert set(preview.change_summary) <= {"same"}, (preview.change_summary, _ops(events))

    databases = _databases(client, name)
    # 3 primaries, 3 DR standbys, the hub's primary and standby: without them the check below is vacuous
    assert len(databases) == 3 + 3 + 2, databases
    removed, renamed, edited = (f"mc-{name}-primary-053279-tax", f"mc-{name}-primary-053465-nhi",
                                f"mc-{name}-primary-053031-residents-registry")
    client.containers.get(removed).remove(force=True, v=True)
    client.containers.get(renamed).rename(f"{renamed}-by-hand")
    client.containers.get(edited).update(restart_policy={"Name": "no"})

    events = []
    drift = stack.preview_refresh(on_output=lambda _l: None, on_event=events.append)
    assert set(drift.change_summary) - {"same"}, "refresh did not see the hand drift"
    stack.refresh(on_output=lambda _l: None)
    events = []
    repaired = stack.up(on_output=lambda _l: None, on_event=events.append)
    assert repaired.summary.result == "succeeded"
    ops = _ops(events)
    assert ops.get("create") == {"primary-053279-tax"}, ops
    assert ops.get("replace", set()) | ops.get("create-replacement", set()) <= {"primary-053465-nhi"}, ops
    assert "primary-053465-nhi" in ops.get("replace", set()) | ops.get("create-replacement", set()), ops
    assert ops.get("update") == {"primary-053031-residents-registry"}, ops
    assert not ops.get("delete"), ops
    for cname in (removed, renamed, edited):
        assert client.containers.get(cname).status == "running", cname
    assert client.containers.get(edited).attrs["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert not client.containers.list(all=True, filters={"name": f"{renamed}-by-hand"})
    assert _databases(client, name) == databases  # not replaced, not even restarted
    events = []
    again = stack.preview_refresh(on_output=lambda _l: None, on_event=events.append)
    assert set(again.change_summary) <= {"same"}, (again.change_summary, _ops(events))


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    name = f"t{secrets.token_hex(3)}"
    backend = tmp_path_factory.mktemp("pulumi-backend")
    port = free_port()
    # made as a stack before the host-isolation default was (engine_host_isolation false: its tenant
    # and hub networks hold the host's address); the test then upgrades it to the default
    base = stack_config("dev", network_base=free_network_base(), frontdoor_port=port, health_timeout_s=150,
                        engine_host_isolation=False)
    scratch = ScratchStack.create(name, base, backend_dir=backend)
    stack = scratch.stack()
    client = docker.from_env()
    try:
        yield scratch, stack, client, base, port
    finally:
        try:
            stack.destroy(on_output=lambda _l: None)
        finally:
            left = _labelled(client, name)
            for c in left["containers"]:
                client.containers.get(c).remove(force=True, v=True)
            for n in left["networks"]:
                client.networks.get(n).remove()
            for v in left["volumes"]:
                client.volumes.get(v).remove(force=True)
            stack.workspace.remove_stack(name)
            shutil.rmtree(scratch.work_dir, ignore_errors=True)


def test_lifecycle(live):
    scratch, stack, client, base, port = live
    name = scratch.name

    up = stack.up(on_output=lambda _l: None)
    assert up.summary.result == "succeeded"
    containers = client.containers.list(all=True, filters={"label": f"municloud.stack={name}"})
    # tenants at both sites (DR: standby + services), hub + hub db at both sites (DR: pilot-light hub
    # + hub standby), two gateways, frontdoor, backup repo, a supervisor per site, the status page (a prober
    # per site, Prometheus, the page)
    assert len(containers) == 2 * 3 * 4 + 2 * 2 + 2 + 1 + 1 + 2 + 4
    # DR services and the DR hub in pilot light (SLA dr_services, Pulumi.yaml default) are created,
    # not started
    pilot = {c.name for c in containers if c.labels["municloud.site"] == "dr"
             and c.labels["municloud.component"] in ("residents_registry", "tax", "nhi", "hub")}
    assert len(pilot) == 3 * 3 + 1
    # every container was healthy when created; on a loaded 2-core machine a 3 s healthcheck can
    # miss a beat, so "all healthy" is awaited (bounded) rather than sampled once
    deadline = time.monotonic() + 90
    while True:
        for c in containers:
            c.reload()
        states = {c.name: (c.status, c.attrs["State"].get("Health", {}).get("Status")) for c in containers}
        bad = {n: s for n, s in states.items()
               if s not in (("running", "healthy"), ("running", None))  # None: no healthcheck (supervisors)
               and not (n in pilot and s[0] == "created")}
        if not bad or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert not bad, bad
    outputs = stack.outputs()
    assert outputs["frontdoor_url"].value == f"https://127.0.0.1:{port}"
    assert outputs["token_private_keys"].secret
    assert not outputs["frontdoor_url"].secret  # the twin: a public output is not marked secret

    events: list = []
    preview = stack.preview(on_output=lambda _l: None, on_event=events.append)
    if _images_current(stack):
        assert set(preview.change_summary) <= {"same"}, preview.change_summary
    else:
        # other work changed an image's build context since the up (a busy checkout): then the
        # only changes allowed are new image tags and the containers replaced for them
        # every change is an image update or a container replaced for its image
        assert not _ops(events), _ops(events)

    _the_isolation_default_replaces_nothing_on_an_older_stack(scratch, stack, base)
    _refresh_shows_nothing_then_repairs_hand_drift(stack, client, name)

    # `pulumi stack export` holds no secret in plain text (the Automation API's export_stack adds
    # --show-secrets, so the CLI is run as an operator would)
    exported = subprocess.run(["pulumi", "stack", "export", "--stack", name], cwd=scratch.work_dir,
                              env=scratch.env, capture_output=True, text=True, check=True, timeout=120).stdout
    assert '"ciphertext"' in exported  # the twin: secrets are there, encrypted
    password = client.containers.get(f"mc-{name}-primary-053031-tax").exec_run(
        ["cat", "/run/secrets/db/password"], user="app").output.decode()
    assert len(password) == 32 and password not in exported
    private = stack.outputs()["token_private_keys"].value
    for pem in private.values():
        assert pem.split("\n")[1] not in exported
    assert "BEGIN PRIVATE KEY" not in exported

    # +1 municipality: only its resources are created
    grown = json.loads(json.dumps(base))
    from municloud.params import KNOWN_MUNICIPALITIES  # noqa: F401  (name/population below)
    extra = json.loads(json.dumps(grown["municloud:municipalities"][0]))
    from stacks.config import free_slots

    extra.update({"lgcode": FOURTH, "name": "三種町", "population": 18818,
                  "address_slot": free_slots(m["address_slot"] for m in grown["municloud:municipalities"])[0]})
    grown["municloud:municipalities"].append(extra)
    scratch.write_config(grown)
    peer = client.containers.get(f"mc-{name}-primary-053031-residents-registry")
    peer_started = peer.attrs["State"]["StartedAt"]
    hub = client.containers.get(f"mc-{name}-primary-hub")
    hub_started = hub.attrs["State"]["StartedAt"]
    events: list = []
    up4 = stack.up(on_output=lambda _l: None, on_event=events.append)
    ops = _ops(events)
    assert up4.summary.result == "succeeded"
    assert ops["create"] and all(FOURTH in urn for urn in ops["create"]), ops["create"]
    assert not ops.get("delete"), ops
    touched = ops.get("update", set()) | ops.get("replace", set()) | ops.get("create-replacement", set())
    # the gateways gain a route and a network link; the hub's key registry gains the new units' keys;
    # the backup repository gains a stanza; the members' residents_registry trust the new one's key
    assert touched <= SHARED_TOUCHED | PEERS_TOUCHED, touched
    assert IN_PLACE <= ops.get("update", set()), ops.get("update")
    assert not IN_PLACE & (ops.get("replace", set()) | ops.get("create-replacement", set())), ops
    # the member kept running (not even restarted) and trusts the new member's key already
    peer.reload()
    assert peer.attrs["State"]["StartedAt"] == peer_started
    assert f"{FOURTH}-residents_registry" in peer.exec_run(
        ["cat", "/etc/municloud/platform-keys.yaml"], user="app").output.decode()
    assert client.containers.get(f"mc-{name}-primary-{FOURTH}-tax").status == "running"
    # the hub routes for the new member without a restart (its routing table is a hot file)
    hub.reload()
    assert hub.attrs["State"]["StartedAt"] == hub_started
    routes = yaml.safe_load(hub.exec_run(["cat", "/etc/municloud/routes.yaml"], user="app").output.decode())
    assert FOURTH in routes["municipalities"]
    # under the default, the joining member's networks hold no host address; the others keep theirs
    options = {code: client.networks.get(f"mc-{name}-primary-{code}").attrs["Options"] or {}
               for code in (FOURTH, "053031")}
    assert options[FOURTH].get(ISOLATION_OPTION) == "true", options
    assert ISOLATION_OPTION not in options["053031"], options

    _offboard_a_member_from_the_middle_and_hand_its_data_to_a_fresh_one(scratch, stack, client, name)

    # -1: only those deleted (a member that holds nothing to hand over)
    from municloud_ops.member import remove_member

    remove_member(name, FOURTH, no_handover=True, path=scratch.work_dir / f"Pulumi.{name}.yaml")
    events = []
    stack.up(on_output=lambda _l: None, on_event=events.append)
    ops = _ops(events)
    assert ops["delete"] and all(FOURTH in urn for urn in ops["delete"]), ops["delete"]
    assert not ops.get("create"), ops
    touched = ops.get("update", set()) | ops.get("replace", set()) | ops.get("create-replacement", set())
    assert touched <= SHARED_TOUCHED | PEERS_TOUCHED, touched
    assert not IN_PLACE & (ops.get("replace", set()) | ops.get("create-replacement", set())), ops
    assert not [c for c in _labelled(client, name)["containers"] if FOURTH in c]

    stack.destroy(on_output=lambda _l: None)
    assert _labelled(client, name) == {"containers": [], "networks": [], "volumes": []}
