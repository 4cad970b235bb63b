"""Container images built locally, without a registry.

Every image of the project comes from here, for tests, for the Pulumi program and for the CLI:

- ``base``: Debian from debootstrap, imported (``images/base/build.sh``).
- ``python``: base + Debian's python3 + a venv filled from a wheelhouse built on the host (pip
  inside a container cannot reach PyPI) + the ``municloud`` and ``services`` source packages.
- any other ``images/<name>/Dockerfile`` (``postgres``, ``nginx``, ``haproxy``...): built FROM base.
- any ``services/<name>/Dockerfile``: built FROM the python image.

Tags carry a content hash of the build context and build args, so an unchanged image is never
rebuilt and a changed one gets a new tag (which is what makes Pulumi replace its containers).
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import os
import subprocess
import sys
import tarfile
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("municloud_ops.images")

REPO_ROOT = Path(os.environ.get("MC_ROOT", Path(__file__).resolve().parents[1]))
STATE_DIR = Path(os.environ.get("MC_STATE", REPO_ROOT / ".state"))
IMAGE_PREFIX = "municloud"
# Source packages copied into the python image (importable through PYTHONPATH=/opt/app).
APP_PACKAGES = ("municloud", "services")
_SKIP_PARTS = {"__pycache__", "tests", ".pytest_cache"}

_lock = threading.RLock()  # re-entrant: a service build ensures the python image first


class ImageBuildError(RuntimeError):
    """An image could not be built; the message names the image and the failing step."""


@dataclass(frozen=True)
class BuildContext:
    """The files of one image build, as (path in context, bytes, mode) entries."""

    name: str
    dockerfile: str
    entries: tuple[tuple[str, bytes, int], ...]
    buildargs: tuple[tuple[str, str], ...]

    def digest(self) -> str:
        h = hashlib.sha256()
        for arc, data, mode in sorted(self.entries):
            h.update(arc.encode() + b"\0" + str(mode & 0o111).encode() + b"\0")
            h.update(hashlib.sha256(data).digest())
        for k, v in self.buildargs:
            h.update(f"{k}={v}\n".encode())
        return h.hexdigest()[:12]

    def tarball(self) -> io.BytesIO:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for arc, data, mode in sorted(self.entries):
                info = tarfile.TarInfo(arc)
                info.size, info.mode, info.mtime = len(data), mode, 0
                tar.addfile(info, io.BytesIO(data))
        buf.seek(0)
        return buf


def _docker(client=None):
    import docker  # imported lazily: the services' runtime image does not need it

    return client or docker.from_env(timeout=600)


def _files_under(root: Path, arc_prefix: str) -> list[tuple[str, bytes, int]]:
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or _SKIP_PARTS.intersection(rel.parts) or path.suffix == ".pyc":
            continue
        out.append((f"{arc_prefix}{rel.as_posix()}", path.read_bytes(), path.stat().st_mode & 0o777))
    return out


def runtime_requirements() -> list[str]:
    """The pinned runtime dependencies of the services, from pyproject.toml (one source)."""
    with open(REPO_ROOT / "pyproject.toml", "rb") as f:
        return list(tomllib.load(f)["project"]["dependencies"])


def wheelhouse() -> Path:
    """Build (once per requirement set) the host-side wheelhouse the python image installs from."""
    reqs = runtime_requirements()
    key = hashlib.sha256("\n".join(sorted(reqs)).encode()).hexdigest()[:12]
    target = STATE_DIR / "wheelhouse" / key
    if (target / ".complete").exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    log.info("building wheelhouse %s (%d requirements)", target, len(reqs))
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(target), *reqs],
        capture_output=True, text=True, timeout=1800,
    )
    if proc.returncode != 0:
        raise ImageBuildError(f"wheelhouse: pip wheel failed: {proc.stderr.strip()[-2000:]}")
    (target / ".complete").write_text("\n".join(sorted(reqs)) + "\n")
    log.info("wheelhouse ready in %.1f s", time.monotonic() - t0)
    return target


@functools.lru_cache(maxsize=1)
def base_image() -> str:
    """The debootstrap base image reference (built by images/base/build.sh when missing).

    Cached per process: the recipe does not change while a process runs."""
    if os.environ.get("MC_BASE_IMAGE"):
        return os.environ["MC_BASE_IMAGE"]
    proc = subprocess.run(
        ["bash", str(REPO_ROOT / "images/base/build.sh")], capture_output=True, text=True, timeout=1800
    )
    if proc.returncode != 0:
        raise ImageBuildError(f"base: {proc.stderr.strip()[-2000:]}")
    return proc.stdout.strip().splitlines()[-1]


def app_sources() -> list[tuple[str, bytes, int]]:
    """The source files the python image carries under /opt/app: the runtime kit and the services,
    without their tests (operator tooling and test support never enter an image)."""
    entries: list[tuple[str, bytes, int]] = []
    for pkg in APP_PACKAGES:
        entries += _files_under(REPO_ROOT / pkg, f"app/{pkg}/")
    return entries


def build_context(name: str, client=None) -> BuildContext:
    """Assemble the build context of image ``name`` (building the images it stands on)."""
    service_dir = REPO_ROOT / "services" / name
    image_dir = REPO_ROOT / "images" / name
    if (service_dir / "Dockerfile").exists():
        entries = [e for e in _files_under(service_dir, "") if not e[0].endswith(".py")]
        return BuildContext(name, "Dockerfile", tuple(entries),
                            (("PYTHON_IMAGE", ensure_image("python", client)),))
    if not (image_dir / "Dockerfile").exists():
        raise ImageBuildError(f"unknown image {name!r}: no images/{name}/Dockerfile "
                              f"and no services/{name}/Dockerfile")
    entries = _files_under(image_dir, "")
    if name == "python":
        wheels = wheelhouse()
        entries += [(f"wheels/{p.name}", p.read_bytes(), 0o644) for p in sorted(wheels.glob("*.whl"))]
        entries.append(("requirements.txt", ("\n".join(runtime_requirements()) + "\n").encode(), 0o644))
        entries += app_sources()
    return BuildContext(name, "Dockerfile", tuple(entries), (("BASE_IMAGE", base_image()),))


def ensure_image(name: str, client=None) -> str:
    """Return the reference of image ``name``, building it (and its parents) when missing.

    ``client`` is a docker.DockerClient (for a site's own engine); default: the local engine.
    Images are built on the local engine only; another engine (a site host) gets the built image
    by ``ship_image`` (docker save | docker load, no registry), under the same content-hash tag.
    """
    if client is not None and not _is_local(client):
        ref = ensure_image(name)
        ship_image(ref, client)
        return ref
    if name == "base":
        return base_image()
    with _lock:
        docker_client = _docker(client)
        ctx = build_context(name, docker_client)
        ref = f"{IMAGE_PREFIX}/{name}:{ctx.digest()}"
        try:
            docker_client.images.get(ref)
            return ref
        except Exception:  # docker.errors.ImageNotFound; avoid importing docker at module level
            pass
        _build(docker_client, ctx, ref)
        return ref


def _is_local(client) -> bool:
    """Whether ``client`` talks to the local engine (the one images are built on)."""
    return client.api.info()["ID"] == _local_engine_id()


@functools.lru_cache(maxsize=1)
def _local_engine_id() -> str:
    return _docker().api.info()["ID"]


def ship_image(ref: str, target) -> str:
    """Copy image ``ref`` from the local engine to the engine of ``target`` (a DockerClient) unless
    it is there already: ``docker save`` streamed into ``docker load``, the way images reach a site
    host without a registry. The image ID (the digest of its configuration) must be the same on
    both engines afterwards. Returns a sentence."""
    import docker.errors

    local = _docker()
    want = local.images.get(ref).id
    try:
        if target.images.get(ref).id == want:
            return f"image {ref} already at the engine"
    except docker.errors.ImageNotFound:
        pass
    t0 = time.monotonic()
    sent = 0

    def chunks():
        nonlocal sent
        for chunk in local.api.get_image(ref, chunk_size=1 << 20):
            sent += len(chunk)
            yield chunk

    with _lock:
        for _ in target.api.load_image(chunks()):
            pass
    got = target.images.get(ref).id
    if got != want:
        raise ImageBuildError(f"image {ref}: loaded as {got} at the engine, built as {want}")
    sentence = f"image {ref} shipped ({sent / 1e6:.0f} MB) in {time.monotonic() - t0:.1f} s"
    print(f"[municloud] {sentence}", file=sys.stderr, flush=True)
    return sentence


# The name other modules (the Pulumi Image provider) use; same function.
build_image = ensure_image


def _build(client, ctx: BuildContext, ref: str) -> None:
    t0 = time.monotonic()
    log.info("building image %s", ref)
    print(f"[municloud] building image {ref} ...", file=sys.stderr, flush=True)
    tail: list[str] = []
    stream = client.api.build(
        fileobj=ctx.tarball(), custom_context=True, tag=ref, dockerfile=ctx.dockerfile,
        buildargs=dict(ctx.buildargs), rm=True, forcerm=True, decode=True,
        labels={"municloud.image": ctx.name, "municloud.context": ctx.digest()},
    )
    for chunk in stream:
        if "stream" in chunk:
            line = chunk["stream"].rstrip()
            if line:
                tail = (tail + [line])[-30:]
                if line.startswith("Step "):
                    print(f"[municloud]   {ctx.name}: {line}  ({time.monotonic() - t0:.0f}s)",
                          file=sys.stderr, flush=True)
        if "error" in chunk:
            raise ImageBuildError(f"image {ctx.name}: {chunk['error'].strip()}\n" + "\n".join(tail))
    print(f"[municloud] built image {ref} in {time.monotonic() - t0:.1f} s", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """`python -m municloud_ops.images NAME...`: build images, print their references."""
    names = argv if argv is not None else sys.argv[1:]
    for n in names:
        print(ensure_image(n))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
