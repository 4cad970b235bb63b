"""Open data, operator side: the reader's attack on a published file (`audit`, linear
programming), validation against the definition (`validate`) and `municloud opendata publish`
(`publish`). The runtime part (definitions, table, suppression, rendering) is municloud.opendata."""
