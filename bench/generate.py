"""Configuration and fixture files for a benchmark run.

Tenants alternate between the two dialects (`fp0001`, `va0002`, `fp0003`, ...): a tenant speaks
exactly one dialect, so "half and half" is the only way both seed endpoints run against the same
tenant count. The M payouts are spread evenly over the FirstPromoter tenants and the M earnings
over the Vantio tenants, each with the records they reference (promoters; users, posters,
impressions and referrals), shaped like a real program: ten payouts per promoter, ten earnings
per referral, ten referrals per ambassador.

The first FirstPromoter tenant also holds one hot promoter: H payouts and H rewards of a single
promoter (issue 14), after that tenant's ordinary records, so `fp_update` never touches them and
`fp_hot_update` touches nothing else. Every payout response nests its promoter's balances, summed
from all of the promoter's payouts and rewards: this is the promoter that makes that sum long.

Every file is produced from its parameters alone, so two runs with the same flags seed the same
store byte for byte.
"""

import hashlib
import os

PAYOUTS_PER_PROMOTER = 10
# The hot promoter's payouts, and as many rewards (issue 14).
HOT_RECORDS = 10_000
EARNINGS_PER_REFERRAL = 10
REFERRALS_PER_USER = 10
CAMPAIGN_ID = 1
# Spread creation times one minute apart from a fixed start, so list order (time, then id) is
# the id order and no two records share a timestamp.
EPOCH_SECONDS = 1704067200  # 2024-01-01T00:00:00Z


def iso(offset_minutes, milliseconds=False):
    seconds = EPOCH_SECONDS + offset_minutes * 60
    days, rest = divmod(seconds, 86400)
    hour, rest = divmod(rest, 3600)
    minute, second = divmod(rest, 60)
    year, month, day = civil_from_days(days)
    fraction = ".000" if milliseconds else ""
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{fraction}Z"


def civil_from_days(days):
    """Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm)."""
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    return year, month, day


class Tenant:
    """One generated tenant: its id, dialect, plaintext key, how many seed records it gets and,
    for the hot promoter's tenant, how many payouts (and rewards) that promoter has."""

    def __init__(self, index, records, hot=0):
        self.index = index
        self.dialect = "firstpromoter-v1" if index % 2 == 1 else "vantio-v1"
        prefix = "fp" if self.is_firstpromoter else "va"
        self.id = f"{prefix}{index:04d}"
        self.key = f"bench_{self.id}_{hashlib.sha256(self.id.encode()).hexdigest()[:16]}"
        self.records = records
        self.hot = hot

    @property
    def is_firstpromoter(self):
        return self.dialect == "firstpromoter-v1"

    @property
    def key_sha256(self):
        return hashlib.sha256(self.key.encode()).hexdigest()


def plan(tenants, records, hot=0):
    """N tenants; M payouts over the FirstPromoter ones and M earnings over the Vantio ones; the
    first FirstPromoter tenant also gets the hot promoter with `hot` payouts and rewards."""
    fp_count = (tenants + 1) // 2
    vantio_count = tenants // 2
    result = []
    fp_seen = vantio_seen = 0
    for index in range(1, tenants + 1):
        if index % 2 == 1:
            share = records // fp_count + (1 if fp_seen < records % fp_count else 0)
            fp_seen += 1
        else:
            share = records // vantio_count + (1 if vantio_seen < records % vantio_count else 0)
            vantio_seen += 1
        result.append(Tenant(index, share, hot if index == 1 else 0))
    return result


def tenant_yaml(tenant, fixtures_dir=None, name_suffix=""):
    lines = [
        f"  {tenant.id}:",
        f"    name: Bench {tenant.id}{name_suffix}",
        f"    dialect: {tenant.dialect}",
        "    api_keys:",
        f"      - {{ id: main, sha256: {tenant.key_sha256} }}",
    ]
    if tenant.is_firstpromoter:
        lines += [
            "    statuses:",
            "      payouts: [pending, processing, completed]",
            "    campaigns:",
            f"      - {{ id: {CAMPAIGN_ID}, name: Bench campaign, landing_url: \"http://example.com/\" }}",
        ]
    else:
        lines += [
            "    statuses:",
            "      earnings: [pending, processing, paid, failed]",
            "    metadata_update: merge",
        ]
    if fixtures_dir is not None and (tenant.records > 0 or tenant.hot > 0):
        lines.append(f"    fixtures: {fixtures_dir}/{tenant.id}.yaml")
    return "\n".join(lines) + "\n"


def config_yaml(tenants, port, store_url, fixtures_dir=None, changed=None, webhook_url=None):
    """The whole file. `changed`: a tenant id whose name gets a suffix, so that two files differ
    in exactly one tenant (a reload that applies something, not a no-op). `webhook_url`: every
    tenant sends every event there, signed with the secret in `bench.whsec`."""
    parts = [
        "# Generated by bench/run; safe to delete.\n",
        "server:\n",
        f"  listen: 127.0.0.1:{port}\n",
        "  max_body_bytes: 1048576\n",
        "admin:\n",
        "  listen: unix:admin.sock\n",
        "storage:\n",
        f"  url: {store_url}\n",
        "tenants:\n",
    ]
    for tenant in tenants:
        suffix = " (renamed)" if tenant.id == changed else ""
        parts.append(tenant_yaml(tenant, fixtures_dir, suffix))
        if webhook_url:
            parts.append(
                f'    webhooks:\n      - {{ id: bench, url: "{webhook_url}", events: ["*"], secrets: [ {{ file: bench.whsec }} ] }}\n'
            )
    return "".join(parts)


def promoter_count(tenant):
    """The tenant's ordinary promoters (ten payouts each); the hot promoter comes after them."""
    return max(1, -(-tenant.records // PAYOUTS_PER_PROMOTER))


def hot_layout(tenant):
    """Where the hot promoter's records go, after the tenant's ordinary ones: its id (also its
    promotion's id), the first of its payout ids, and the minute offsets of its creation, first
    reward and first payout (its rewards are earned before they are paid out)."""
    promoters = promoter_count(tenant)
    start = promoters + tenant.records + 1
    return {
        "promoter_id": promoters + 1,
        "first_payout_id": tenant.records + 1,
        "created_minute": start,
        "first_reward_minute": start + 1,
        "first_payout_minute": start + 1 + tenant.hot,
    }


def promoter_line(tenant, p, created_minute):
    return (
        f"  - {{ id: {p}, email: promoter{p}@{tenant.id}.example.com, created_at: \"{iso(created_minute, True)}\","
        f" promotions: [ {{ id: {p}, campaign_id: {CAMPAIGN_ID}, ref_id: promoter{p} }} ] }}\n"
    )


def payout_line(n, promoter, created_minute):
    return (
        f"  - {{ id: {n}, promoter_id: {promoter}, status: pending, amount: {1000 + n % 9000},"
        f" created_at: \"{iso(created_minute, True)}\" }}\n"
    )


def write_firstpromoter_fixtures(path, tenant):
    promoters = promoter_count(tenant)
    hot = hot_layout(tenant) if tenant.hot > 0 else None
    with open(path, "w") as out:
        out.write("promoters:\n")
        for p in range(1, promoters + 1):
            out.write(promoter_line(tenant, p, p))
        if hot:
            out.write(promoter_line(tenant, hot["promoter_id"], hot["created_minute"]))
        out.write("payouts:\n")
        for n in range(1, tenant.records + 1):
            out.write(payout_line(n, (n - 1) // PAYOUTS_PER_PROMOTER + 1, promoters + n))
        if hot:
            for k in range(tenant.hot):
                out.write(payout_line(hot["first_payout_id"] + k, hot["promoter_id"], hot["first_payout_minute"] + k))
            write_hot_rewards(out, tenant, hot)


def write_hot_rewards(out, tenant, hot):
    """One approved cash reward per hot payout, paid out by it (same promoter and campaign, same
    amount): every one counts in the promoter's earnings balance."""
    out.write("rewards:\n")
    for k in range(tenant.hot):
        payout = hot["first_payout_id"] + k
        out.write(
            f"  - {{ id: {k + 1}, promotion_id: {hot['promoter_id']}, status: approved, amount: {1000 + payout % 9000},"
            f" created_at: \"{iso(hot['first_reward_minute'] + k, True)}\", payout_id: {payout} }}\n"
        )


def write_vantio_fixtures(path, tenant):
    referrals = max(1, -(-tenant.records // EARNINGS_PER_REFERRAL))
    users = max(1, -(-referrals // REFERRALS_PER_USER))
    domain = f"{tenant.id}.example.edu"
    with open(path, "w") as out:
        out.write("users:\n")
        for u in range(1, users + 1):
            out.write(
                f"  - {{ id: user_{u}, first_name: Ambassador, last_name: N{u}, email: user{u}@{domain},"
                f" program_id: prog_bench, created_at: \"{iso(u)}\" }}\n"
            )
        out.write("posters:\n")
        for u in range(1, users + 1):
            out.write(
                f"  - {{ id: poster_{u}, student_id: user_{u}, qr_code_url: \"https://{domain}/qr/{u}.png\","
                f" created_at: \"{iso(users + u)}\" }}\n"
            )
        out.write("impressions:\n")
        for r in range(1, referrals + 1):
            user = (r - 1) // REFERRALS_PER_USER + 1
            out.write(f"  - {{ id: imp_{r}, poster_id: poster_{user}, scanned_at: \"{iso(2 * users + r)}\" }}\n")
        out.write("referrals:\n")
        for r in range(1, referrals + 1):
            out.write(
                f"  - {{ id: ref_{r}, impression_id: imp_{r}, first_name: Referred, last_name: N{r},"
                f" email: referral{r}@{domain}, created_at: \"{iso(2 * users + r)}\" }}\n"
            )
        out.write("earnings:\n")
        start = 2 * users + referrals
        for n in range(1, tenant.records + 1):
            referral = (n - 1) // EARNINGS_PER_REFERRAL + 1
            out.write(
                f"  - {{ id: earn_{n}, referral_id: ref_{referral}, amount: {500 + n % 4500}, type: commission,"
                f" created_at: \"{iso(start + n)}\", metadata: {{ source: bench }} }}\n"
            )


def write_fixtures(directory, tenants):
    os.makedirs(directory, exist_ok=True)
    for tenant in tenants:
        if tenant.records == 0 and tenant.hot == 0:
            continue
        path = os.path.join(directory, f"{tenant.id}.yaml")
        if tenant.is_firstpromoter:
            write_firstpromoter_fixtures(path, tenant)
        else:
            write_vantio_fixtures(path, tenant)


def targets_lua(tenants):
    """What the wrk scripts pick requests from: each tenant's key and seeded record count, and
    the hot promoter's tenant key and payout ids (`first` .. `first + count - 1`)."""
    def rows(selected):
        return "\n".join(f"    {{ key = \"{t.key}\", count = {t.records} }}," for t in selected)

    fp = [t for t in tenants if t.is_firstpromoter and t.records > 0]
    vantio = [t for t in tenants if not t.is_firstpromoter and t.records > 0]
    hot = [t for t in tenants if t.hot > 0]
    hot_row = (f"{{ key = \"{hot[0].key}\", first = {hot_layout(hot[0])['first_payout_id']}, count = {hot[0].hot} }}"
               if hot else "nil")
    return (f"return {{\n  fp = {{\n{rows(fp)}\n  }},\n  vantio = {{\n{rows(vantio)}\n  }},\n"
            f"  hot = {hot_row},\n}}\n")


def seeded_records(tenants):
    """Every record the fixtures hold, the referenced ones included."""
    total = 0
    for tenant in tenants:
        if tenant.is_firstpromoter and tenant.hot > 0:
            total += 1 + 2 * tenant.hot
        if tenant.records == 0:
            continue
        if tenant.is_firstpromoter:
            total += tenant.records + promoter_count(tenant)
        else:
            referrals = max(1, -(-tenant.records // EARNINGS_PER_REFERRAL))
            users = max(1, -(-referrals // REFERRALS_PER_USER))
            total += tenant.records + 2 * referrals + 2 * users
    return total


def main():
    """Writes a run's fixtures and targets.lua into a folder without seeding anything, to look at
    what a run would load: `python3 bench/generate.py /tmp/fixtures --tenants 4 --records 100`."""
    import argparse

    parser = argparse.ArgumentParser(prog="bench/generate.py", description=main.__doc__)
    parser.add_argument("directory")
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--hot-records", type=int, default=HOT_RECORDS)
    options = parser.parse_args()
    tenants = plan(options.tenants, options.records, options.hot_records)
    write_fixtures(options.directory, tenants)
    with open(os.path.join(options.directory, "targets.lua"), "w") as out:
        out.write(targets_lua(tenants))
    print(f"{seeded_records(tenants)} records in {options.directory}")


if __name__ == "__main__":
    main()
