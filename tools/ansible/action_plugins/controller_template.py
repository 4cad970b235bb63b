"""``controller_template``: render a role's template into a file on the controller.

The municloud roles render configuration that Pulumi then copies into containers
(stacks/providers/rendered.py), so the destination is always on the machine that runs Ansible.
``ansible.builtin.template`` would reach it through the module machinery: a stat module and a
copy (or file) module per file, each a payload built and a Python started (~0.3 s of CPU apiece
on the 2-core machine, docs/benchmarks.md). This action renders with the builtin ``template``
lookup (same search path, variables and Jinja2 settings) and writes the file here, atomically,
only when its content or mode differs; ``changed`` says whether it did, so a second run of an
unchanged role reports changed=0. Check mode and ``--diff`` are honoured.

    - name: Render the nginx configuration.
      controller_template:
        src: nginx.conf.j2
        dest: "{{ gateway_output_dir }}/nginx.conf"
        mode: "0644"

The parent directory is created (0755) when missing.
"""

from __future__ import annotations

import os
import stat
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

_ARGS = {"src": str, "dest": str, "mode": str}


def _mode(value: str) -> int:
    try:
        mode = int(str(value), 8)
    except ValueError:
        raise AnsibleActionFail(f"controller_template: mode must be an octal string such as '0644' (got {value!r})")
    if not 0 <= mode <= 0o7777:
        raise AnsibleActionFail(f"controller_template: mode {value!r} is out of range")
    return mode


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = dict(self._task.args)
        unknown = sorted(set(args) - set(_ARGS))
        if unknown:
            raise AnsibleActionFail(f"controller_template: unsupported argument(s) {', '.join(unknown)}")
        for name in ("src", "dest"):
            if not args.get(name):
                raise AnsibleActionFail(f"controller_template: {name} is required")
        dest = os.path.abspath(str(args["dest"]))
        mode = _mode(args.get("mode", "0644"))

        lookup = self._shared_loader_obj.lookup_loader.get("ansible.builtin.template", loader=self._loader,
                                                            templar=self._templar)
        content = lookup.run([str(args["src"])], variables=task_vars)[0]
        data = str(content).encode("utf-8")

        try:
            with open(dest, "rb") as fh:
                before = fh.read()
            before_mode = stat.S_IMODE(os.stat(dest).st_mode)
        except FileNotFoundError:
            before, before_mode = None, None
        changed = before != data or before_mode != mode
        result.update(changed=changed, dest=dest, mode=f"{mode:04o}", size=len(data))
        if self._task.diff and before != data:
            result["diff"] = {"before": (before or b"").decode("utf-8", "replace"), "after": str(content),
                              "before_header": dest, "after_header": f"{args['src']} (rendered)"}
        if not changed or self._task.check_mode:
            return result

        directory = os.path.dirname(dest)
        os.makedirs(directory, mode=0o755, exist_ok=True)
        fd, tmp_path = tempfile.mkstemp(prefix=".controller_template.", dir=directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp_path, mode)
            os.replace(tmp_path, dest)
        except BaseException:
            try:
                os.unlink(tmp_path)
            except FileNotFoundError:
                pass
            raise
        return result
