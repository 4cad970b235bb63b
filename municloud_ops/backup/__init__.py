"""Remote backup (遠隔バックアップ) with pgBackRest: the repository container at the DR site, one
stanza per municipality cluster, backups, restore verification and point-in-time recovery."""
