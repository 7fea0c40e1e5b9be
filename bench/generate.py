#!/usr/bin/env python3
"""Generate the benchmark data for campaignctl, deterministically (python3 stdlib only).

    python3 bench/generate.py [--out bench/data] [--million-count 1000000]

Writes, under --out (default bench/data/, which git ignores; never commit its contents):

  million/million.campaign.yaml   one campaign, country GB, one task, one csv source
  million/data/million.csv        customer_id,phone: --million-count rows (default 1,000,000)
  mixed/mixed.campaign.yaml       one campaign, a task per country of GB, US, HK, AU, IN, DE, BR
  mixed/data/CC.csv               ... each with its share of --million-count numbers
  thousand/*.campaign.yaml        1,000 small campaigns with a few inline numbers each
  apply/*.campaign.yaml           1,000 campaigns of one task each ...
  apply/data/*.csv                ... each dialing 100 numbers from its own CSV
  */GENERATED                     written last: a set without it is incomplete

The million numbers are UK mobile numbers 071xx, 072xx and 073xx xxxxxx: libphonenumber
validates all of them (the full range check, not only the length check), and no fictional range
holds a million numbers. They are all distinct (a bijection of the row index), written in a mix
of the ways people write them (`07100 123456`, `+44 7100 123456`, `(07100) 123456`,
`447100123456`, `0044 7100 123456`, ...). They may be real people's numbers: the benchmark only
ever *plans* them, it never applies them, not even to the sandbox.

The numbers of `mixed/` are mobile (and, for the US, geographic) numbers of seven countries,
each in a space that libphonenumber validates whole (`7[1-3]` + 8 digits for GB, as above;
21 area codes with exchange 2-9xx for the US; 61, 63-65, 69, 94, 96 and 97 for HK; 04[0-36]
for AU; [6-9] + 9 digits for IN; 015x, 016x, 017x for DE; 9 area codes + 9 for BR), all
distinct, each written in one of the forms people of that country use: national with and
without trunk prefix, international with `+`, with the international prefix, the calling code
without `+`, with spaces, dashes, dots and brackets, and for BR with a carrier code. They may
be real people's numbers: plan only, never apply, never commit.

The numbers that `thousand/` and `apply/` use come from Ofcom's London range for drama, 020 7946 0000 to
020 7946 0999, which is never assigned to anyone.

Running it twice with the same arguments writes byte-identical files: the only randomness is a
SplitMix64 generator with a fixed seed, which (unlike `random`) no Python version changes.
"""

import argparse
import hashlib
import os
import shutil
import sys

SEED = 0x5EED_CA11_2026

# The national significant numbers of the million: "7" + one of 1..3 + eight digits, i.e.
# 300,000,000 possible numbers, all matching libphonenumber's GB mobile pattern 7[1-3]\d\d\d{6}.
SPACE = 300_000_000
# A multiplier coprime to SPACE (= 2^8 * 3 * 5^8): i -> (i * MULT + OFFSET) mod SPACE is a
# bijection, so distinct rows get distinct numbers, spread across the whole space.
MULT = 198_491_317
OFFSET = 12_345_677
assert MULT % 2 and MULT % 3 and MULT % 5

TASK_SETTINGS = """\
  country: GB
  strategyName: Default Strategy
  dispatchType: none
  agentGroupNo: NX09445G000025
  predictCallRate: 1.0
  ratioCallRate: 1.0
  startCount: 1
  startupType: immediate
"""


class SplitMix64:
    """A tiny, well-known PRNG whose output is fixed forever by its seed."""

    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed & self.MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n


def million_national(i):
    """The national significant number (10 digits, starting with 7) of row i."""
    x = (i * MULT + OFFSET) % SPACE
    return "7" + str(1 + x // 100_000_000) + format(x % 100_000_000, "08d")


# Ways people write a UK mobile number; n is the 10-digit national significant number.
FORMS = [
    lambda n: f"0{n[:4]} {n[4:]}",  # 07100 123456
    lambda n: f"+44 {n[:4]} {n[4:]}",  # +44 7100 123456
    lambda n: f"({'0' + n[:4]}) {n[4:]}",  # (07100) 123456
    lambda n: f"44{n}",  # 447100123456
    lambda n: f"0044 {n[:4]} {n[4:]}",  # 0044 7100 123456
    lambda n: f"0{n[:4]}-{n[4:7]}-{n[7:]}",  # 07100-123-456
    lambda n: f"+44 (0){n[:4]} {n[4:]}",  # +44 (0)7100 123456
    lambda n: f"0{n}",  # 07100123456
    lambda n: f"+44{n}",  # +447100123456
    lambda n: f"0{n[:4]}.{n[4:7]}.{n[7:]}",  # 07100.123.456
]


def number_of(i, space, mult=1_000_000_007, offset=12_345_677):
    """Row i's index into a space of `space` numbers: a bijection (the prime `mult` does not
    divide the space), so rows get distinct numbers spread across it."""
    assert space % mult
    return (i * mult + offset) % space


def pick(prefixes, digits):
    """A numbering space: one of `prefixes`, then `digits` free digits."""
    size = 10**digits

    def national(x):
        return prefixes[x // size] + format(x % size, f"0{digits}d")

    return len(prefixes) * size, national


US_AREAS = ["201", "202", "203", "205", "206", "212", "213", "214", "215", "216", "303",
            "312", "404", "415", "512", "617", "702", "713", "718", "808", "907"]
US_EXCHANGES = [f"{a}{b:02d}" for a in range(2, 10) for b in range(100)]

# For each country of the mixed set: its numbering space (size, index -> national significant
# number) and the forms its numbers are written in.
MIXED = {
    "GB": (pick([f"7{d}" for d in "123"], 8), FORMS),
    "US": (
        pick([a + e for a in US_AREAS for e in US_EXCHANGES], 4),
        [
            lambda n: f"({n[:3]}) {n[3:6]}-{n[6:]}",
            lambda n: f"{n[:3]}-{n[3:6]}-{n[6:]}",
            lambda n: f"{n[:3]}.{n[3:6]}.{n[6:]}",
            lambda n: f"1 {n[:3]} {n[3:6]} {n[6:]}",
            lambda n: f"+1 {n[:3]} {n[3:6]} {n[6:]}",
            lambda n: f"+1{n}",
            lambda n: f"1{n}",
            lambda n: n,
            lambda n: f"011 1 {n[:3]} {n[3:6]} {n[6:]}",
            lambda n: f"+1 ({n[:3]}) {n[3:6]}-{n[6:]}",
        ],
    ),
    "HK": (
        pick(["61", "63", "64", "65", "69", "94", "96", "97"], 6),
        [
            lambda n: f"{n[:4]} {n[4:]}",
            lambda n: f"+852 {n[:4]} {n[4:]}",
            lambda n: f"852{n}",
            lambda n: f"+852-{n[:4]}-{n[4:]}",
            lambda n: f"+852{n}",
            lambda n: n,
            lambda n: f"{n[:4]}-{n[4:]}",
        ],
    ),
    "AU": (
        pick([f"4{d}" for d in "01236"], 7),
        [
            lambda n: f"0{n[:3]} {n[3:6]} {n[6:]}",
            lambda n: f"+61 {n[:3]} {n[3:6]} {n[6:]}",
            lambda n: f"0011 61 {n}",
            lambda n: f"61{n}",
            lambda n: f"+61{n}",
            lambda n: f"0{n}",
            lambda n: f"(0{n[:3]}) {n[3:]}",
        ],
    ),
    "IN": (
        pick(list("6789"), 9),
        [
            lambda n: f"0{n[:5]} {n[5:]}",
            lambda n: f"+91 {n[:5]} {n[5:]}",
            lambda n: f"91{n}",
            lambda n: n,
            lambda n: f"00 91 {n}",
            lambda n: f"+91-{n}",
            lambda n: f"{n[:5]}-{n[5:]}",
        ],
    ),
    "DE": (
        pick(["151", "152", "160", "162", "170", "171", "172", "173", "174", "175", "176",
              "177", "178", "179"], 8),
        [
            lambda n: f"0{n[:4]} {n[4:]}",
            lambda n: f"+49 {n[:4]} {n[4:]}",
            lambda n: f"0049 {n}",
            lambda n: f"49{n}",
            lambda n: f"+49{n}",
            lambda n: f"0{n}",
            lambda n: f"(0{n[:4]}) {n[4:]}",
            lambda n: f"+49 (0){n[:4]} {n[4:]}",
        ],
    ),
    "BR": (
        pick([f"{a}9" for a in ["11", "21", "31", "41", "51", "61", "71", "81", "91"]], 8),
        [
            lambda n: f"({n[:2]}) {n[2:7]}-{n[7:]}",
            lambda n: f"0{n[:2]} {n[2:7]}-{n[7:]}",
            lambda n: f"+55 {n[:2]} {n[2:7]}-{n[7:]}",
            lambda n: f"55{n}",
            lambda n: f"+55{n}",
            lambda n: n,
            lambda n: f"+55 ({n[:2]}) {n[2:7]}-{n[7:]}",
            lambda n: f"0 21 {n[:2]} {n[2:7]} {n[7:]}",  # with carrier code 21
        ],
    ),
}


def fictional(k, rng):
    """The k-th number (0..999) of the 020 7946 0xxx drama range, in a random form."""
    n = f"2079460{k % 1000:03d}"
    return FORMS[rng.below(len(FORMS))](n)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def gen_million(out, count):
    rng = SplitMix64(SEED)
    root = os.path.join(out, "million")
    write(
        os.path.join(root, "million.campaign.yaml"),
        "# Generated by bench/generate.py: one campaign whose CSV holds "
        f"{count:,} numbers.\n"
        "name: bench-million\n"
        "description: Speed bar benchmark, plan only (never apply these numbers)\n"
        "vars:\n"
        "  batch: \"2026-01\"\n"
        "task:\n"
        "  taskName: \"million-{{ batch }}\"\n"
        "  taskDesc: \"Benchmark campaign {{ campaign }}\"\n"
        + TASK_SETTINGS
        + "numbers:\n"
        "  - csv: data/million.csv\n"
        "    phoneColumn: phone\n"
        "    other: \"{{ row.customer_id }}\"\n",
    )
    csv_path = os.path.join(root, "data", "million.csv")
    os.makedirs(os.path.dirname(csv_path), exist_ok=True)
    digest = hashlib.sha256()
    with open(csv_path, "w", encoding="utf-8", newline="\n") as f:
        chunk = ["customer_id,phone\n"]
        for i in range(count):
            phone = FORMS[rng.below(len(FORMS))](million_national(i))
            chunk.append(f"C{i + 1:07d},{phone}\n")
            if len(chunk) >= 10_000:
                text = "".join(chunk)
                digest.update(text.encode())
                f.write(text)
                chunk = []
        text = "".join(chunk)
        digest.update(text.encode())
        f.write(text)
    return digest.hexdigest()


def gen_mixed(out, count):
    rng = SplitMix64(SEED ^ 0x313)
    root = os.path.join(out, "mixed")
    countries = list(MIXED)
    write(
        os.path.join(root, "mixed.campaign.yaml"),
        "# Generated by bench/generate.py: one campaign, a task per country, "
        f"{count:,} numbers in all.\n"
        "name: bench-mixed\n"
        "description: Speed bar benchmark, plan only (never apply these numbers)\n"
        "matrix:\n"
        f"  country: [{', '.join(countries)}]\n"
        "task:\n"
        "  taskName: \"mixed-{{ country }}\"\n"
        + TASK_SETTINGS.replace("country: GB", "country: \"{{ country }}\"")
        + "numbers:\n"
        "  - csv: \"data/{{ country }}.csv\"\n"
        "    other: \"{{ row.customer_id }}\"\n",
    )
    digest = hashlib.sha256()
    for c, country in enumerate(countries):
        (space, national), forms = MIXED[country]
        rows = count // len(countries) + (1 if c < count % len(countries) else 0)
        lines = ["customer_id,phone\n"]
        for i in range(rows):
            n = national(number_of(i, space))
            lines.append(f"{country}{i + 1:07d},{forms[rng.below(len(forms))](n)}\n")
        text = "".join(lines)
        digest.update(text.encode())
        write(os.path.join(root, "data", f"{country}.csv"), text)
    return digest.hexdigest()


def gen_thousand(out):
    rng = SplitMix64(SEED ^ 0x1000)
    root = os.path.join(out, "thousand")
    for c in range(1, 1001):
        count = 2 + rng.below(4)  # 2..5 numbers
        first = rng.below(1000)
        phones = ", ".join(f'"{fictional(first + j * 7, rng)}"' for j in range(count))
        write(
            os.path.join(root, f"small-{c:04d}.campaign.yaml"),
            "# Generated by bench/generate.py\n"
            f"name: small-{c:04d}\n"
            f"description: Small benchmark campaign {c}\n"
            "vars:\n"
            f"  wave: \"w{c % 7}\"\n"
            "task:\n"
            "  taskName: \"{{ campaign }}-{{ wave }}\"\n"
            "  taskDesc: \"Wave {{ wave }} of {{ campaign }}\"\n"
            + TASK_SETTINGS
            + "numbers:\n"
            f"  - phones: [{phones}]\n",
        )


def gen_apply(out):
    rng = SplitMix64(SEED ^ 0xA991)
    root = os.path.join(out, "apply")
    for c in range(1, 1001):
        name = f"apply-{c:04d}"
        write(
            os.path.join(root, f"{name}.campaign.yaml"),
            "# Generated by bench/generate.py\n"
            f"name: {name}\n"
            "task:\n"
            "  taskName: \"{{ campaign }}\"\n"
            + TASK_SETTINGS
            + "numbers:\n"
            f"  - csv: data/{name}.csv\n"
            "    phoneColumn: phone\n"
            "    other: \"{{ row.customer_id }}\"\n",
        )
        # 100 distinct numbers of the drama range; campaigns overlap, which is allowed.
        start = (c * 100) % 1000
        rows = ["customer_id,phone\n"]
        for j in range(100):
            rows.append(f"A{c:04d}{j:03d},{fictional(start + j, rng)}\n")
        write(os.path.join(root, "data", f"{name}.csv"), "".join(rows))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "data"))
    parser.add_argument("--million-count", type=int, default=1_000_000)
    parser.add_argument(
        "--only", choices=["million", "mixed", "thousand", "apply"], action="append",
        help="generate only these sets (repeatable); default all",
    )
    args = parser.parse_args()
    if args.million_count > SPACE:
        sys.exit(f"--million-count must be at most {SPACE}")
    sets = args.only or ["million", "mixed", "thousand", "apply"]
    for name in sets:
        shutil.rmtree(os.path.join(args.out, name), ignore_errors=True)
        stamp = [f"generator bench/generate.py", f"seed {SEED:#x}"]
        if name == "million":
            digest = gen_million(args.out, args.million_count)
            stamp += [f"rows {args.million_count}", f"million.csv sha256 {digest}"]
        elif name == "mixed":
            digest = gen_mixed(args.out, args.million_count)
            stamp += [f"rows {args.million_count}", f"data sha256 {digest}"]
        elif name == "thousand":
            gen_thousand(args.out)
        else:
            gen_apply(args.out)
        write(os.path.join(args.out, name, "GENERATED"), "\n".join(stamp) + "\n")
        print(f"generated {os.path.join(args.out, name)}", file=sys.stderr)


if __name__ == "__main__":
    main()
