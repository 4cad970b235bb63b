"""住民記録 (residents registry): residents, households, 異動 with history, 住民票の写し."""
