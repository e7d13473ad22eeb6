"""Writes src/test/resources/cos/glibc-cos.txt: Python's math.cos (glibc's cos) on the arguments a learning-rate
schedule produces and on others, for GlibcCosTest. Run with Debian's python3 (it has mpmath):

    /usr/bin/python3 src/test/python/generate_cos_references.py

Each line: x, math.cos(x), the correctly rounded cos(x), all float.hex. See src/test/resources/cos/README.md.
"""
import math
import os
import platform
import random

import mpmath

mpmath.mp.prec = 400
# Arguments where GlibcCos would differ from glibc if it evaluated the correction terms of its table-based sine or
# cosine, or the Taylor sine, without glibc's fused multiply-adds: found by comparing such variants with glibc on
# 2.4 million arguments (the other contractions of __cos_fma change no result there).
SENSITIVE = [
    '0x1.28649cc747519p+3',
    '0x1.b54840380b1bdp+1',
    '0x1.b4e81f23d1c79p+2',
    '0x1.c22fbca7314e8p+2',
    '0x1.1aef097a73dcap+3',
    '0x1.bf619fa16f2e1p+2',
    '0x1.ae0c93a1e3e73p-1',
    '0x1.abd55ae0207b0p+2',
    '0x1.6b5b6576fccb8p+2',
    '0x1.7c7d98e1cdce5p+1',
    '0x1.ef6334e5d3db9p+1',
    '0x1.bb2e7a20f2c51p+2',
    '0x1.005a9d2850ff3p+3',
    '0x1.dae39dfdb7bf5p-1',
    '0x1.095d92b800463p+3',
    '0x1.10f97ec96ec28p+2',
    '0x1.c34df21cb97e7p+0',
    '0x1.4984a650d332cp+0',
    '0x1.42cb15dc3c9a4p+0',
    '0x1.cfe352c80d7fep+2',
    '0x1.cd08a22a636f6p+2',
    '0x1.4f7c770b99c1dp+0',
    '0x1.3c71adeacec37p+2',
    '0x1.164e5a04937ccp+2',
    '0x1.b096794d4fa35p+0',
    '0x1.facce912123b7p+2',
    '0x1.a346ac033abfcp+0',
    '0x1.7882c8b3af127p+0',
    '0x1.99b60acccb531p+0',
    '0x1.ac6fc8ed8e082p+4',
    '0x1.eef2b703fc9e1p+2',
    '0x1.342ae9226e233p+2',
    '0x1.48698d235f3d8p+4',
    '-0x1.0b286f34d1d64p+7',
    '0x1.a3c25bbf7c098p+0',
    '0x1.4d8160f08a454p+6',
]

OUT = os.path.join(os.path.dirname(__file__), '..', 'resources', 'cos', 'glibc-cos.txt')


def correctly_rounded(x):
    if math.isnan(x) or math.isinf(x):
        return math.nan
    value = mpmath.cos(mpmath.mpf(x))  # exact argument, 400 bits
    with mpmath.workprec(53):
        return float(+value)  # rounded once, to nearest


def glibc_cos(x):
    # Python raises ValueError for the infinities, where C's cos gives NaN.
    return math.nan if math.isinf(x) else math.cos(x)


def hexed(v):
    if math.isnan(v):
        return 'NaN'
    if math.isinf(v):
        return 'Infinity' if v > 0 else '-Infinity'
    return v.hex()


def main():
    rnd = random.Random(20261125)
    # The grid: what CosineAnnealingLR and CosineAnnealingWarmRestarts evaluate, pi * k / T (and pi / T).
    grid = set()
    for t in range(1, 301):
        grid.add(math.pi / t)
        for k in range(0, 2 * t + 2):
            grid.add(math.pi * k / t)
    grid = sorted(grid)
    not_correctly_rounded = [x for x in grid if glibc_cos(x) != correctly_rounded(x)]
    skipped = set(not_correctly_rounded)
    rest = [x for x in grid if x not in skipped]
    sample = rnd.sample(rest, 2500)
    # Far positions: a chainable cosine stepped long after T_max, up to the large-argument reduction.
    far = [math.pi * rnd.randint(1, 10**10) / rnd.randint(1, 1000) for _ in range(300)]
    # Arbitrary arguments in every range of the algorithm, and the thresholds between them.
    arbitrary = [rnd.uniform(-10, 10) for _ in range(300)]
    arbitrary += [rnd.uniform(-1.1e8, 1.1e8) for _ in range(200)]
    arbitrary += [math.ldexp(rnd.random(), rnd.randint(-60, 1024)) * rnd.choice((-1, 1)) for _ in range(200)]
    special = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308,
               math.inf, -math.inf, math.nan, math.pi, -math.pi, math.pi / 2, math.pi / 4, 2 * math.pi]
    thresholds = (2.0 ** -27, float.fromhex('0x1.b6p-1'), float.fromhex('0x1.368fdp+1'),
                  float.fromhex('0x1.921fbp+26'), 0.126, math.pi / 2 - 0.126, math.pi / 2 + 0.126)
    for threshold in thresholds:
        for v in (threshold, math.nextafter(threshold, 0), math.nextafter(threshold, math.inf)):
            special += [v, -v]
    with open(OUT, 'w') as out:
        out.write('# x math.cos(x) correctly-rounded-cos(x), float.hex; Python %s, %s\n'
                  % (platform.python_version(), ' '.join(platform.libc_ver())))
        out.write('# %d arguments of the grid pi*k/T (T = 1..300, k = 0..2T+1) and pi/T where glibc is not correctly '
                  'rounded\n' % len(not_correctly_rounded))
        sensitive = [float.fromhex(a) for a in SENSITIVE]
        for x in not_correctly_rounded + sample + far + arbitrary + special + sensitive:
            out.write('%s %s %s\n' % (hexed(x), hexed(glibc_cos(x)), hexed(correctly_rounded(x))))
    print(len(grid), 'grid arguments,', len(not_correctly_rounded), 'not correctly rounded')


if __name__ == '__main__':
    main()
