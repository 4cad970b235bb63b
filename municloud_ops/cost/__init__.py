"""Cost sharing among the members (指針1, 4): metered usage per member (`meter`, `usage`) and the
consortium's formula 均等割 + 人口割 + 利用量割 (`allocation`), reported with the arithmetic shown
(`report`). Operator tooling: nothing here ships in the service images. docs/cost.md."""
