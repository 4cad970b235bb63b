"""Image build contexts: content-hash tags that change exactly when the context changes."""

import pytest

from municloud_ops.images import BuildContext, ImageBuildError, build_context

pytestmark = pytest.mark.unit


def _ctx(files, args=(("BASE_IMAGE", "b:1"),)):
    return BuildContext("x", "Dockerfile", tuple(files), args)


def test_digest_is_stable_for_the_same_context():
    a = _ctx([("Dockerfile", b"FROM x\n", 0o644), ("run.sh", b"echo\n", 0o755)])
    b = _ctx([("run.sh", b"echo\n", 0o755), ("Dockerfile", b"FROM x\n", 0o644)])
    assert a.digest() == b.digest()


@pytest.mark.parametrize(
    "changed",
    [
        [("Dockerfile", b"FROM y\n", 0o644), ("run.sh", b"echo\n", 0o755)],  # content
        [("Dockerfile", b"FROM x\n", 0o644), ("run.sh", b"echo\n", 0o644)],  # run bit
        [("Dockerfile", b"FROM x\n", 0o644), ("run2.sh", b"echo\n", 0o755)],  # name
    ],
)
def test_digest_changes_when_the_context_changes(changed):
    base = _ctx([("Dockerfile", b"FROM x\n", 0o644), ("run.sh", b"echo\n", 0o755)])
    assert _ctx(changed).digest() != base.digest()


def test_digest_changes_with_the_parent_image():
    files = [("Dockerfile", b"FROM x\n", 0o644)]
    assert _ctx(files, (("BASE_IMAGE", "b:1"),)).digest() != _ctx(files, (("BASE_IMAGE", "b:2"),)).digest()


def test_tarball_is_byte_identical_for_the_same_context():
    files = [("Dockerfile", b"FROM x\n", 0o644), ("a/b.txt", b"1", 0o644)]
    assert _ctx(files).tarball().getvalue() == _ctx(list(reversed(files))).tarball().getvalue()


def test_unknown_image_is_named_in_the_error():
    with pytest.raises(ImageBuildError, match="unknown image 'no_such_image'"):
        build_context("no_such_image")
