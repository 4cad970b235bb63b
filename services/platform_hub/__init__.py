"""Platform hub (地域情報プラットフォーム 連携基盤): receives signed messages, authorises them
against the routing table, stores them durably, delivers them to subscribers at least once and
keeps a hash-chained message log."""
