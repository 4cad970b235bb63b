"""Site hosts (tools/bootstrap/site-hosts.sh): each site a Docker engine of its own, reached over
tcp+TLS with client certificates, and the providers creating a site's objects on that engine only.

Needs root (network namespaces) and the local engine (images are built there and shipped).
"""

from __future__ import annotations

import ssl
import socket
import uuid

import docker
import pytest
import requests

from tests.support import sites
from municloud_ops.scratch.tls import CertificateAuthority
from stacks.providers._base import EngineUnreachable, engine_client, engine_props, register_engines

pytestmark = [pytest.mark.integration, pytest.mark.infra]


@pytest.fixture(scope="module")
def hosts():
    print(sites.up("primary", "dr"))
    return {n: sites.host(n) for n in ("primary", "dr")}


@pytest.fixture(scope="module")
def clients(hosts):
    return {n: h.client() for n, h in hosts.items()}


@pytest.fixture
def dev_config_raw() -> dict:
    from tests.stack.conftest import raw_config

    return raw_config("dev")


@pytest.fixture
def run_id() -> str:
    return uuid.uuid4().hex[:8]


def _labels(run_id: str, site: str) -> dict[str, str]:
    return {"municloud.stack": f"sitetest{run_id}", "municloud.site": site, "municloud.lgcode": "shared",
            "municloud.component": "sitetest"}


def test_each_site_is_an_engine_of_its_own(hosts, clients):
    local = docker.from_env().info()
    infos = {n: c.info() for n, c in clients.items()}
    assert len({local["ID"], *(i["ID"] for i in infos.values())}) == 3
    for name, info in infos.items():
        assert info["Name"] == hosts[name].namespace  # its own hostname (UTS namespace)
        assert info["Driver"] == "overlay2"
    # each its own network stack: the same bridge address on both, which one kernel could not hold twice
    bridges = {n: c.networks.get("bridge").attrs["IPAM"]["Config"][0]["Subnet"] for n, c in clients.items()}
    assert bridges["primary"] == bridges["dr"]


def _handshake(address: str, port: int, ca: str, cert: tuple[str, str] | None) -> str:
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    if cert:
        ctx.load_cert_chain(*cert)
    with socket.create_connection((address, port), timeout=5) as raw, ctx.wrap_socket(raw) as tls:
        tls.sendall(f"GET /_ping HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n".encode())
        return tls.recv(200).decode(errors="replace")


def test_the_engine_refuses_clients_without_a_certificate_of_the_consortium_ca(hosts, tmp_path):
    dr = hosts["dr"]
    tls = dr.tls()
    port = dr.port
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
        _handshake(dr.address, port, tls["ca_cert"], None)
    stranger = CertificateAuthority.create("not the consortium")
    cert_pem, key_pem = stranger.issue("municloud operator")
    (tmp_path / "c.pem").write_bytes(cert_pem)
    (tmp_path / "k.pem").write_bytes(key_pem)
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
        _handshake(dr.address, port, tls["ca_cert"], (str(tmp_path / "c.pem"), str(tmp_path / "k.pem")))
    with pytest.raises(EngineUnreachable):  # the providers' client names the engine
        engine_client(dr.docker_host, {**tls, "cert": str(tmp_path / "c.pem"), "key": str(tmp_path / "k.pem")})
    # the twin: the operator's certificate is answered
    assert _handshake(dr.address, port, tls["ca_cert"], (tls["cert"], tls["key"])).startswith("HTTP/1.1 200")


def test_the_ca_bundle_of_the_environment_does_not_replace_the_engines_ca(hosts, monkeypatch):
    # this machine sets REQUESTS_CA_BUNDLE; an unrelated bundle there must not break the engine client
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())
    monkeypatch.setenv("CURL_CA_BUNDLE", requests.certs.where())
    assert hosts["dr"].client().version()["Version"]


def test_the_engine_api_answers_on_the_management_link_only(hosts, clients, run_id):
    from municloud_ops.images import ensure_image

    client, primary = clients["primary"], hosts["primary"]
    ref = ensure_image("python", client)
    port = primary.port
    net = client.networks.create(f"mc-sitetest{run_id}", labels=_labels(run_id, "primary"))
    listener = None
    try:
        listener = client.containers.run(ref, ["python3", "-m", "http.server", "8080"], detach=True,
                                         network=net.name, name=f"mc-sitetest{run_id}-listener",
                                         labels=_labels(run_id, "primary"))
        probe = ("import socket,sys\ns=socket.socket();s.settimeout(3)\n"
                 "try:\n s.connect((sys.argv[1],int(sys.argv[2])));print('open')\n"
                 "except OSError as e:\n print('closed',e)\n")
        def connect(addr: str, p: int) -> str:
            return client.containers.run(ref, ["python3", "-c", probe, addr, str(p)], network=net.name, remove=True,
                                         labels=_labels(run_id, "primary")).decode().strip()
        listener.reload()
        # the twin: the same probe from the same network reaches a listener
        for _ in range(20):
            if connect(listener.attrs["NetworkSettings"]["Networks"][net.name]["IPAddress"], 8080) == "open":
                break
        else:
            pytest.fail("the probe never reached the listener on its own network")
        net.reload()
        gateway = net.attrs["IPAM"]["Config"][0]["Gateway"]
        for addr in (primary.address, gateway):  # the engine's address and the host side of the bridge
            assert connect(addr, port).startswith("closed"), addr
    finally:
        if listener is not None:
            listener.remove(force=True)
        net.remove()


def test_each_sites_objects_are_created_on_its_own_engine(hosts, clients, run_id):
    """The providers (the code `pulumi up` runs) with the TLS files the program registers per site."""
    from stacks.providers.container import ContainerProvider
    from stacks.providers.image import ImageProvider
    from stacks.providers.network import NetworkProvider
    from stacks.providers.volume import VolumeProvider

    register_engines({h.docker_host: h.tls() for h in hosts.values()})
    dr = hosts["dr"].docker_host
    try:
        image = ImageProvider().create({"image": "base", "docker_host": dr, **engine_props(dr)}).outs["ref"]
        assert clients["dr"].images.get(image)
        common = {"docker_host": dr, "labels": _labels(run_id, "dr"), **engine_props(dr)}
        net = NetworkProvider().create({"name": f"mc-sitetest{run_id}-net", "internal": True, **common})
        vol = VolumeProvider().create({"name": f"mc-sitetest{run_id}-vol", **common})
        box = ContainerProvider().create({
            "name": f"mc-sitetest{run_id}-box", "image": image, "command": ["sleep", "300"],
            "networks": [{"name": f"mc-sitetest{run_id}-net"}], "health_timeout": 60,
            "mounts": [{"source": f"mc-sitetest{run_id}-vol", "target": "/data"}], **common})
        try:
            assert clients["dr"].containers.get(box.id).status == "running"
            assert clients["dr"].networks.get(net.id) and clients["dr"].volumes.get(vol.id)
            for other in (clients["primary"], docker.from_env()):
                with pytest.raises(docker.errors.NotFound):
                    other.containers.get(f"mc-sitetest{run_id}-box")
                with pytest.raises(docker.errors.NotFound):
                    other.volumes.get(f"mc-sitetest{run_id}-vol")
        finally:
            ContainerProvider().delete(box.id, box.outs)
            VolumeProvider().delete(vol.id, vol.outs)
            NetworkProvider().delete(net.id, net.outs)
        with pytest.raises(docker.errors.NotFound):
            clients["dr"].containers.get(box.id)
    finally:
        register_engines({})


def test_pointing_the_dr_site_at_a_third_engine_is_a_config_change(hosts, clients, dev_config_raw, run_id):
    """sites.dr.docker_host -> another engine: the DR site's objects go there, none to the old DR."""
    from stacks.config import load
    from stacks.providers.network import NetworkProvider

    print(sites.up("spare"))
    spare = sites.host("spare")
    try:
        raw = {**dev_config_raw, "sites": {"primary": hosts["primary"].site_config("primary"),
                                           "dr": spare.site_config("dr")}}
        cfg = load("dev", raw)
        register_engines({s.docker_host: s.tls() for s in cfg.sites.values()})
        host = cfg.sites["dr"].docker_host
        net = NetworkProvider().create({"name": f"mc-sitetest{run_id}-dr-edge", "docker_host": host,
                                        "labels": _labels(run_id, "dr"), "internal": True, **engine_props(host)})
        try:
            assert spare.client().networks.get(net.id).name == f"mc-sitetest{run_id}-dr-edge"
            assert not clients["dr"].networks.list(names=[f"mc-sitetest{run_id}-dr-edge"])
        finally:
            NetworkProvider().delete(net.id, net.outs)
    finally:
        register_engines({})
        print(sites.remove("spare"))


def test_power_on_starts_from_the_cables_not_the_old_engines_bridges(hosts, run_id):
    """A bridge left in a host's namespace by an engine that is gone (a power-off, or another
    checkout's engine whose data root is gone) owns the route to its subnet; a new engine's network
    for the same block would be unreachable. Power-on removes every device but the cables."""
    import subprocess

    def ip(*args: str) -> str:
        return subprocess.run(["ip", "-n", spare.namespace, *args], check=True, capture_output=True,
                              text=True).stdout

    print(sites.up("spare"))
    spare = sites.host("spare")
    try:
        block = sites.wan_block("spare")
        print(sites.power_off("spare"))
        stale = f"br-stale{run_id[:6]}"
        ip("link", "add", stale, "type", "bridge")
        ip("addr", "add", block.replace(".0/24", ".1/24"), "dev", stale)
        ip("link", "set", stale, "up")
        assert stale in ip("-o", "link", "show")  # the twin: the leftover is there before power-on
        assert f"dev {stale}" in ip("route", "show", block)
        answer = sites.up("spare")
        assert "answering at" in answer, answer
        links = ip("-o", "link", "show")
        assert stale not in links
        assert "mgmt0" in links
        assert f"dev {stale}" not in ip("route", "show", block)
        assert spare.client().version()["Version"]
    finally:
        print(sites.remove("spare"))


def test_a_published_port_reaches_the_host_with_each_clients_own_address(hosts):
    """`site-hosts.sh publish` (decision 0045): this machine's 127.0.0.1:PORT is ADDRESS:PORT on the
    host, and 127.0.0.2 / 127.0.0.3 arrive there as two addresses of MC_SITE_CLIENT_NET; the twin:
    unpublished, nothing answers at 127.0.0.1:PORT."""
    import ipaddress
    import os
    import subprocess
    import sys

    from stacks.automation import free_port

    port, host = free_port(), hosts["primary"]
    listener = subprocess.Popen(
        ["ip", "netns", "exec", host.namespace, sys.executable, "-c",
         "import socket, sys\n"
         "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
         "s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(4); s.settimeout(30)\n"
         "print('ready', flush=True)\n"
         "for _ in range(2):\n"
         "    c, a = s.accept(); c.sendall(a[0].encode()); c.close()\n", host.address, str(port)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert listener.stdout.readline().strip() == "ready"
        print(sites.publish("primary", port, host.address))
        seen = {}
        for last in (2, 3):
            with socket.create_connection(("127.0.0.1", port), timeout=10,
                                          source_address=(f"127.0.0.{last}", 0)) as conn:
                seen[last] = conn.recv(64).decode()
        clients = ipaddress.ip_network(os.environ.get("MC_SITE_CLIENT_NET", "10.250.254.0/24"))
        assert seen == {2: str(clients[2]), 3: str(clients[3])}, seen
    finally:
        print(sites.unpublish(port))
        listener.kill()
        listener.wait(timeout=10)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
