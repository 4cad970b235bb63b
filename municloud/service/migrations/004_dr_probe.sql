-- DR probe (canary) writes: uniquely numbered synthetic transactions a DR coordinator sends
-- through the frontdoor (municloud.service.dr_probe_api); no personal data. `site` is the site
-- whose service stored the row (SITE of that container), to tell primary and DR writes apart.
CREATE TABLE dr_probe (
    run_id text NOT NULL,
    n integer NOT NULL,
    site text,
    written_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (run_id, n)
);
