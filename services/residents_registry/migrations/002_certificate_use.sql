-- A 転入 that presents a 転出証明書情報 received from another consortium municipality marks it
-- used, so one certificate cannot admit the same people twice.
ALTER TABLE incoming_move_out_certificates ADD COLUMN used_at timestamptz;
ALTER TABLE incoming_move_out_certificates ADD COLUMN used_by_staff text;
