/*
 * g16setup: an INSECURE single-party Groth16 setup over BN254 that writes a snarkjs
 * .zkey (the same file `snarkjs groth16 setup` + phase-2 contributions produce), so the
 * key loads in seconds with groth16py's import_zkey and also proves with snarkjs.
 *
 *   g16setup CIRCUIT.r1cs OUT.zkey SECRETS
 *
 * SECRETS is a file of 4 x 32 bytes, little endian, below BN254's scalar field: tau,
 * alpha, beta, delta. Whoever knows them can forge proofs: the
 * caller draws them from the OS, passes them through a private file and deletes it.
 * gamma is 1, as in every snarkjs key. Layout and conventions follow snarkjs's
 * zkey_new.js (Lagrange-basis A/B/C over the domain of 2^k >= constraints + public + 1
 * rows, the public-input rows A[nConstraints + s][s] = 1, H as the odd Lagrange points of
 * the doubled domain divided by delta, coefficients stored as c * R^2 mod r).
 *
 * Part of ZKPoT; GPL-3.0-or-later. Build: cc -O3 -fopenmp g16setup.c -o g16setup.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

typedef uint64_t u64;
typedef unsigned __int128 u128;
typedef struct { u64 v[4]; } fe;
typedef struct { fe p; u64 inv; fe r2; fe one; } field;

static field FQ, FR;

static const fe Q_MOD = {{0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL}};
static const fe R_MOD = {{0x43e1f593f0000001ULL, 0x2833e84879b97091ULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL}};

static void die(const char *msg) { fprintf(stderr, "g16setup: %s\n", msg); exit(2); }

static int geq(const fe *a, const fe *b) {
    for (int i = 3; i >= 0; i--) {
        if (a->v[i] > b->v[i]) return 1;
        if (a->v[i] < b->v[i]) return 0;
    }
    return 1;
}
static void sub_raw(fe *r, const fe *a, const fe *b) {
    u64 borrow = 0;
    for (int i = 0; i < 4; i++) {
        u128 d = (u128)a->v[i] - b->v[i] - borrow;
        r->v[i] = (u64)d;
        borrow = (u64)(d >> 64) ? 1 : 0;
    }
}
static inline void fadd(fe *r, const fe *a, const fe *b, const field *F) {
    u64 carry = 0;
    fe t;
    for (int i = 0; i < 4; i++) {
        u128 s = (u128)a->v[i] + b->v[i] + carry;
        t.v[i] = (u64)s;
        carry = (u64)(s >> 64);
    }
    if (carry || geq(&t, &F->p)) sub_raw(&t, &t, &F->p);
    *r = t;
}
static inline void fsub(fe *r, const fe *a, const fe *b, const field *F) {
    u64 borrow = 0;
    fe t;
    for (int i = 0; i < 4; i++) {
        u128 d = (u128)a->v[i] - b->v[i] - borrow;
        t.v[i] = (u64)d;
        borrow = (u64)(d >> 64) ? 1 : 0;
    }
    if (borrow) {
        u64 carry = 0;
        for (int i = 0; i < 4; i++) {
            u128 s = (u128)t.v[i] + F->p.v[i] + carry;
            t.v[i] = (u64)s;
            carry = (u64)(s >> 64);
        }
    }
    *r = t;
}
static inline void fmul(fe *r, const fe *a, const fe *b, const field *F) {
    u64 t[6] = {0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
        u128 c = 0;
        for (int j = 0; j < 4; j++) {
            c += (u128)a->v[j] * b->v[i] + t[j];
            t[j] = (u64)c;
            c >>= 64;
        }
        c += t[4];
        t[4] = (u64)c;
        t[5] = (u64)(c >> 64);
        u64 m = t[0] * F->inv;
        c = (u128)m * F->p.v[0] + t[0];
        c >>= 64;
        for (int j = 1; j < 4; j++) {
            c += (u128)m * F->p.v[j] + t[j];
            t[j - 1] = (u64)c;
            c >>= 64;
        }
        c += t[4];
        t[3] = (u64)c;
        t[4] = t[5] + (u64)(c >> 64);
    }
    fe out = {{t[0], t[1], t[2], t[3]}};
    if (t[4] || geq(&out, &F->p)) sub_raw(&out, &out, &F->p);
    *r = out;
}
static inline int fzero(const fe *a) { return !(a->v[0] | a->v[1] | a->v[2] | a->v[3]); }
static inline int feq(const fe *a, const fe *b) { return !memcmp(a, b, sizeof(fe)); }

/* a^e, e a plain (non-Montgomery) 256-bit exponent. */
static void fpow(fe *r, const fe *a, const fe *e, const field *F) {
    fe acc = F->one, base = *a;
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 64; b++) {
            if ((e->v[i] >> b) & 1) fmul(&acc, &acc, &base, F);
            fmul(&base, &base, &base, F);
        }
    *r = acc;
}
static void finv(fe *r, const fe *a, const field *F) {
    fe e = F->p, two = {{2, 0, 0, 0}};
    sub_raw(&e, &e, &two);
    fpow(r, a, &e, F);
}
static void to_mont(fe *r, const fe *a, const field *F) { fmul(r, a, &F->r2, F); }
static void from_mont(fe *r, const fe *a, const field *F) {
    fe one = {{1, 0, 0, 0}};
    fmul(r, a, &one, F);
}
static void fe_from_u64(fe *r, u64 x, const field *F) {
    fe t = {{x, 0, 0, 0}};
    to_mont(r, &t, F);
}

static void field_init(field *F, const fe *p) {
    F->p = *p;
    u64 inv = 1; /* p^-1 mod 2^64 by Newton, then negate */
    for (int i = 0; i < 6; i++) inv *= 2 - p->v[0] * inv;
    F->inv = (u64)0 - inv;
    /* R mod p = 2^256 mod p by doubling 1 256 times; R^2 by 256 more doublings of R */
    fe x = {{1, 0, 0, 0}};
    for (int i = 0; i < 512; i++) {
        if (i == 256) F->one = x;
        fadd(&x, &x, &x, F);
    }
    F->r2 = x;
}

/* ---- Fq2 = Fq[u] / (u^2 + 1) ------------------------------------------------------ */
typedef struct { fe c0, c1; } fe2;
static inline void f2add(fe2 *r, const fe2 *a, const fe2 *b) { fadd(&r->c0, &a->c0, &b->c0, &FQ); fadd(&r->c1, &a->c1, &b->c1, &FQ); }
static inline void f2sub(fe2 *r, const fe2 *a, const fe2 *b) { fsub(&r->c0, &a->c0, &b->c0, &FQ); fsub(&r->c1, &a->c1, &b->c1, &FQ); }
static inline void f2mul(fe2 *r, const fe2 *a, const fe2 *b) {
    fe t0, t1, s0, s1, m;
    fmul(&t0, &a->c0, &b->c0, &FQ);
    fmul(&t1, &a->c1, &b->c1, &FQ);
    fadd(&s0, &a->c0, &a->c1, &FQ);
    fadd(&s1, &b->c0, &b->c1, &FQ);
    fmul(&m, &s0, &s1, &FQ);
    fsub(&m, &m, &t0, &FQ);
    fsub(&r->c1, &m, &t1, &FQ);
    fsub(&r->c0, &t0, &t1, &FQ);
}
static inline int f2zero(const fe2 *a) { return fzero(&a->c0) && fzero(&a->c1); }
static void f2inv(fe2 *r, const fe2 *a) {
    fe n, t, i;
    fmul(&n, &a->c0, &a->c0, &FQ);
    fmul(&t, &a->c1, &a->c1, &FQ);
    fadd(&n, &n, &t, &FQ);
    finv(&i, &n, &FQ);
    fe z = {{0, 0, 0, 0}};
    fmul(&r->c0, &a->c0, &i, &FQ);
    fsub(&t, &z, &a->c1, &FQ);
    fmul(&r->c1, &t, &i, &FQ);
}

/* ---- Fq wrappers with the Fq2 signatures, so one macro writes both curves ---------- */
static inline void f1add(fe *r, const fe *a, const fe *b) { fadd(r, a, b, &FQ); }
static inline void f1sub(fe *r, const fe *a, const fe *b) { fsub(r, a, b, &FQ); }
static inline void f1mul(fe *r, const fe *a, const fe *b) { fmul(r, a, b, &FQ); }
static inline int f1zero(const fe *a) { return fzero(a); }
static void f1inv(fe *r, const fe *a) { finv(r, a, &FQ); }

/* Jacobian points (Z = 0: infinity) and affine points ((0, 0): infinity, as snarkjs). */
#define DEFINE_CURVE(G, E, ADD, SUB, MUL, ZERO, INV)                                      \
    typedef struct { E x, y; } G##_aff;                                                    \
    typedef struct { E x, y, z; } G##_jac;                                                 \
    static void G##_dbl(G##_jac *r, const G##_jac *p) {                                    \
        if (ZERO(&p->z)) { *r = *p; return; }                                              \
        E a, b, c, d, e, f, t, y3, z3;                                                     \
        MUL(&a, &p->x, &p->x); MUL(&b, &p->y, &p->y); MUL(&c, &b, &b);                     \
        ADD(&t, &p->x, &b); MUL(&t, &t, &t); SUB(&t, &t, &a); SUB(&t, &t, &c);             \
        ADD(&d, &t, &t);                                                                   \
        ADD(&e, &a, &a); ADD(&e, &e, &a);                                                  \
        MUL(&f, &e, &e);                                                                   \
        MUL(&z3, &p->y, &p->z); ADD(&z3, &z3, &z3);                                        \
        SUB(&r->x, &f, &d); SUB(&r->x, &r->x, &d);                                         \
        SUB(&t, &d, &r->x); MUL(&y3, &e, &t);                                              \
        ADD(&c, &c, &c); ADD(&c, &c, &c); ADD(&c, &c, &c);                                 \
        SUB(&r->y, &y3, &c);                                                               \
        r->z = z3;                                                                         \
    }                                                                                      \
    /* r = p + q, q affine and not infinity */                                             \
    static void G##_madd(G##_jac *r, const G##_jac *p, const G##_aff *q, const E *one) {   \
        if (ZERO(&p->z)) { r->x = q->x; r->y = q->y; r->z = *one; return; }                \
        E z1z1, u2, s2, h, hh, i, j, rr, v, t;                                             \
        MUL(&z1z1, &p->z, &p->z);                                                          \
        MUL(&u2, &q->x, &z1z1);                                                            \
        MUL(&s2, &q->y, &p->z); MUL(&s2, &s2, &z1z1);                                      \
        SUB(&h, &u2, &p->x);                                                               \
        SUB(&rr, &s2, &p->y);                                                              \
        if (ZERO(&h)) {                                                                    \
            if (ZERO(&rr)) { G##_dbl(r, p); return; }                                      \
            memset(r, 0, sizeof(*r)); return;                                              \
        }                                                                                  \
        ADD(&rr, &rr, &rr);                                                                \
        MUL(&hh, &h, &h);                                                                  \
        ADD(&i, &hh, &hh); ADD(&i, &i, &i);                                                \
        MUL(&j, &h, &i);                                                                   \
        MUL(&v, &p->x, &i);                                                                \
        E x3, y3, z3;                                                                      \
        MUL(&x3, &rr, &rr); SUB(&x3, &x3, &j); SUB(&x3, &x3, &v); SUB(&x3, &x3, &v);       \
        SUB(&t, &v, &x3); MUL(&y3, &rr, &t);                                               \
        MUL(&t, &p->y, &j); ADD(&t, &t, &t); SUB(&y3, &y3, &t);                            \
        ADD(&z3, &p->z, &h); MUL(&z3, &z3, &z3); SUB(&z3, &z3, &z1z1); SUB(&z3, &z3, &hh); \
        r->x = x3; r->y = y3; r->z = z3;                                                   \
    }                                                                                      \
    /* affine form of n Jacobian points (Montgomery trick: one inversion) */               \
    static void G##_normalize(G##_aff *out, const G##_jac *in, size_t n, const E *one) {   \
        E *acc = malloc(sizeof(E) * (n + 1));                                              \
        if (!acc) die("out of memory");                                                    \
        acc[0] = *one;                                                                     \
        for (size_t k = 0; k < n; k++) {                                                   \
            if (ZERO(&in[k].z)) acc[k + 1] = acc[k];                                       \
            else MUL(&acc[k + 1], &acc[k], &in[k].z);                                      \
        }                                                                                  \
        E inv, zi, zi2, zi3;                                                               \
        INV(&inv, &acc[n]);                                                                \
        for (size_t k = n; k-- > 0;) {                                                     \
            if (ZERO(&in[k].z)) { memset(&out[k], 0, sizeof(out[k])); continue; }          \
            MUL(&zi, &inv, &acc[k]);                                                       \
            MUL(&inv, &inv, &in[k].z);                                                     \
            MUL(&zi2, &zi, &zi); MUL(&zi3, &zi2, &zi);                                     \
            MUL(&out[k].x, &in[k].x, &zi2); MUL(&out[k].y, &in[k].y, &zi3);                \
        }                                                                                  \
        free(acc);                                                                         \
    }                                                                                      \
    /* table[w * 256 + d] = d * 2^(8w) * base, d = 1..255 (d = 0 unused) */                \
    static G##_aff *G##_table(const G##_aff *base, const E *one) {                         \
        G##_aff *tab = calloc(32 * 256, sizeof(G##_aff));                                  \
        G##_jac *jac = calloc(256, sizeof(G##_jac));                                       \
        if (!tab || !jac) die("out of memory");                                            \
        G##_aff b = *base;                                                                 \
        for (int w = 0; w < 32; w++) {                                                     \
            memset(&jac[0], 0, sizeof(jac[0]));                                            \
            for (int d = 1; d < 256; d++) G##_madd(&jac[d], &jac[d - 1], &b, one);         \
            G##_normalize(&tab[w * 256 + 1], &jac[1], 255, one);                           \
            G##_jac t; t.x = b.x; t.y = b.y; t.z = *one;                                   \
            for (int k = 0; k < 8; k++) G##_dbl(&t, &t);                                   \
            G##_normalize(&b, &t, 1, one);                                                 \
        }                                                                                  \
        free(jac);                                                                         \
        return tab;                                                                        \
    }                                                                                      \
    /* out[k] = scalars[k] * base (scalars in plain form), in parallel chunks */           \
    static void G##_batch(G##_aff *out, const fe *scalars, size_t n, const G##_aff *tab,   \
                          const E *one) {                                                  \
        const size_t chunk = 4096;                                                         \
        long nchunks = (long)((n + chunk - 1) / chunk);                                    \
        _Pragma("omp parallel for schedule(dynamic, 1)")                                   \
        for (long ci = 0; ci < nchunks; ci++) {                                            \
            size_t lo = (size_t)ci * chunk, hi = lo + chunk < n ? lo + chunk : n;          \
            G##_jac *jac = malloc(sizeof(G##_jac) * (hi - lo));                            \
            if (!jac) die("out of memory");                                                \
            for (size_t k = lo; k < hi; k++) {                                             \
                G##_jac acc; memset(&acc, 0, sizeof(acc));                                 \
                const unsigned char *s = (const unsigned char *)&scalars[k];               \
                for (int w = 0; w < 32; w++)                                               \
                    if (s[w]) G##_madd(&acc, &acc, &tab[w * 256 + s[w]], one);             \
                jac[k - lo] = acc;                                                         \
            }                                                                              \
            G##_normalize(&out[lo], jac, hi - lo, one);                                    \
            free(jac);                                                                     \
        }                                                                                  \
    }

DEFINE_CURVE(g1, fe, f1add, f1sub, f1mul, f1zero, f1inv)
DEFINE_CURVE(g2, fe2, f2add, f2sub, f2mul, f2zero, f2inv)

/* ---- input ------------------------------------------------------------------------ */
static unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open an input file");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) die("cannot read an input file");
    fclose(f);
    *size = (size_t)n;
    return buf;
}
static uint32_t rd32(const unsigned char *p) { uint32_t x; memcpy(&x, p, 4); return x; }
static u64 rd64(const unsigned char *p) { u64 x; memcpy(&x, p, 8); return x; }

/* ---- output ----------------------------------------------------------------------- */
static FILE *OUT;
static long section_start;
static void wr(const void *p, size_t n) { if (fwrite(p, 1, n, OUT) != n) die("cannot write the key"); }
static void wr32(uint32_t x) { wr(&x, 4); }
static void begin_section(uint32_t id) {
    wr32(id);
    u64 zero = 0;
    section_start = ftell(OUT);
    wr(&zero, 8);
}
static void end_section(void) {
    long end = ftell(OUT);
    u64 size = (u64)(end - section_start - 8);
    fseek(OUT, section_start, SEEK_SET);
    wr(&size, 8);
    fseek(OUT, end, SEEK_SET);
}

static void write_g1(const fe *scalars, size_t n, const g1_aff *tab) {
    g1_aff *pts = malloc(sizeof(g1_aff) * (n ? n : 1));
    if (!pts) die("out of memory");
    g1_batch(pts, scalars, n, tab, &FQ.one);
    wr(pts, sizeof(g1_aff) * n);
    free(pts);
}
static void write_g2(const fe *scalars, size_t n, const g2_aff *tab, const fe2 *one) {
    g2_aff *pts = malloc(sizeof(g2_aff) * (n ? n : 1));
    if (!pts) die("out of memory");
    g2_batch(pts, scalars, n, tab, one);
    wr(pts, sizeof(g2_aff) * n);
    free(pts);
}

static void set_dec(fe *r, const char *hex) { /* big-endian hex -> plain limbs */
    memset(r, 0, sizeof(*r));
    size_t len = strlen(hex);
    for (size_t i = 0; i < len; i++) {
        char c = hex[len - 1 - i];
        u64 v = (u64)(c <= '9' ? c - '0' : c - 'a' + 10);
        r->v[i / 16] |= v << (4 * (i % 16));
    }
}

int main(int argc, char **argv) {
    if (argc != 4) die("usage: g16setup CIRCUIT.r1cs OUT.zkey SECRETS");
    field_init(&FQ, &Q_MOD);
    field_init(&FR, &R_MOD);

    size_t slen;
    unsigned char *secrets = read_file(argv[3], &slen);
    if (slen != 128) die("the secrets file is not 4 x 32 bytes");
    fe tau, alpha, beta, delta, raw;
    fe *dst[4] = {&tau, &alpha, &beta, &delta};
    for (int i = 0; i < 4; i++) {
        memcpy(&raw, secrets + 32 * i, 32);
        if (geq(&raw, &FR.p) || fzero(&raw)) die("a secret is not a nonzero scalar");
        to_mont(dst[i], &raw, &FR);
    }
    memset(secrets, 0, slen);
    free(secrets);

    /* r1cs: header (section 1) and constraints (section 2) */
    size_t rlen;
    unsigned char *r1cs = read_file(argv[1], &rlen);
    if (rlen < 12 || memcmp(r1cs, "r1cs", 4)) die("not an r1cs file");
    uint32_t nsec = rd32(r1cs + 8);
    size_t off = 12, hdr = 0, cons = 0;
    for (uint32_t i = 0; i < nsec; i++) {
        if (off + 12 > rlen) die("truncated r1cs");
        uint32_t id = rd32(r1cs + off);
        u64 sz = rd64(r1cs + off + 4);
        if (id == 1 && !hdr) hdr = off + 12;
        if (id == 2 && !cons) cons = off + 12;
        off += 12 + sz;
    }
    if (!hdr || !cons) die("r1cs without header or constraints");
    if (rd32(r1cs + hdr) != 32 || memcmp(r1cs + hdr + 4, &R_MOD, 32)) die("r1cs is not over BN254");
    uint32_t nVars = rd32(r1cs + hdr + 36), nOut = rd32(r1cs + hdr + 40);
    uint32_t nPubIn = rd32(r1cs + hdr + 44), nCons = rd32(r1cs + hdr + 60);
    uint32_t nPublic = nOut + nPubIn;
    uint32_t power = 0;
    while (((u64)1 << power) < (u64)nCons + nPublic + 1) power++;
    if (power >= 28) die("circuit too big for BN254's FFT domain");
    u64 n = (u64)1 << power;

    /* roots of unity: 5 generates Fr*, as in ffjavascript and arkworks */
    fe five, t = R_MOD, one_plain = {{1, 0, 0, 0}}, w_n, w_2n;
    fe_from_u64(&five, 5, &FR);
    sub_raw(&t, &t, &one_plain); /* (r - 1) >> 28 */
    for (int k = 0; k < 28; k++) {
        for (int i = 0; i < 3; i++) t.v[i] = (t.v[i] >> 1) | (t.v[i + 1] << 63);
        t.v[3] >>= 1;
    }
    fe root28;
    fpow(&root28, &five, &t, &FR);
    w_2n = root28;
    for (uint32_t k = power + 1; k < 28; k++) fmul(&w_2n, &w_2n, &w_2n, &FR);
    fmul(&w_n, &w_2n, &w_2n, &FR);

    /* Lagrange basis at tau over the domain of size n and (odd points of) size 2n:
       L_j(tau) = (tau^m - 1) / m * w^j / (tau - w^j) */
    fe *L = malloc(sizeof(fe) * n), *H = malloc(sizeof(fe) * n);
    if (!L || !H) die("out of memory");
    for (int pass = 0; pass < 2; pass++) {
        u64 m = pass ? 2 * n : n;
        fe *dest = pass ? H : L;
        fe w = pass ? w_2n : w_n, step, cur;
        fe tm, mm, c, inv_m, exp = {{m, 0, 0, 0}};
        fpow(&tm, &tau, &exp, &FR);
        fsub(&c, &tm, &FR.one, &FR);
        fe_from_u64(&mm, m, &FR);
        finv(&inv_m, &mm, &FR);
        fmul(&c, &c, &inv_m, &FR);
        if (pass) { cur = w; fmul(&step, &w, &w, &FR); } else { cur = FR.one; step = w; }
        /* dest[j] = tau - point_j; prefix products for one inversion */
        fe *pts = malloc(sizeof(fe) * n), *pre = malloc(sizeof(fe) * (n + 1));
        if (!pts || !pre) die("out of memory");
        pre[0] = FR.one;
        for (u64 j = 0; j < n; j++) {
            pts[j] = cur;
            fsub(&dest[j], &tau, &cur, &FR);
            if (fzero(&dest[j])) die("tau fell on the domain; draw again");
            fmul(&pre[j + 1], &pre[j], &dest[j], &FR);
            fmul(&cur, &cur, &step, &FR);
        }
        fe inv;
        finv(&inv, &pre[n], &FR);
        for (u64 j = n; j-- > 0;) {
            fe d = dest[j], di;
            fmul(&di, &inv, &pre[j], &FR);
            fmul(&inv, &inv, &d, &FR);
            fmul(&di, &di, &pts[j], &FR);
            fmul(&dest[j], &di, &c, &FR);
        }
        free(pts);
        free(pre);
    }

    /* per-wire a, b, c at tau; coefficient list for section 4 */
    fe *A = calloc(nVars, sizeof(fe)), *B = calloc(nVars, sizeof(fe)), *C = calloc(nVars, sizeof(fe));
    if (!A || !B || !C) die("out of memory");
    size_t p = cons, ncoefs = 0;
    for (uint32_t c = 0; c < nCons; c++) {
        for (int m = 0; m < 3; m++) {
            uint32_t nt = rd32(r1cs + p);
            p += 4;
            for (uint32_t k = 0; k < nt; k++) {
                uint32_t s = rd32(r1cs + p);
                fe coef, term;
                memcpy(&coef, r1cs + p + 4, 32);
                p += 36;
                if (s >= nVars) die("r1cs names a wire beyond its count");
                to_mont(&coef, &coef, &FR);
                fmul(&term, &coef, &L[c], &FR);
                fe *dst2 = m == 0 ? &A[s] : m == 1 ? &B[s] : &C[s];
                fadd(dst2, dst2, &term, &FR);
                if (m < 2) ncoefs++;
            }
        }
    }
    for (uint32_t s = 0; s <= nPublic; s++) fadd(&A[s], &A[s], &L[nCons + s], &FR);
    ncoefs += nPublic + 1;

    OUT = fopen(argv[2], "wb");
    if (!OUT) die("cannot create the key file");
    wr("zkey", 4);
    wr32(1);
    wr32(10);

    begin_section(1);
    wr32(1); /* groth16 */
    end_section();

    /* generators, in Montgomery form */
    g1_aff G1;
    fe x_plain = {{1, 0, 0, 0}}, y_plain = {{2, 0, 0, 0}};
    to_mont(&G1.x, &x_plain, &FQ);
    to_mont(&G1.y, &y_plain, &FQ);
    g2_aff G2;
    const char *g2hex[4] = {
        "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed",
        "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2",
        "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa",
        "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b"};
    fe *g2c[4] = {&G2.x.c0, &G2.x.c1, &G2.y.c0, &G2.y.c1};
    for (int i = 0; i < 4; i++) {
        set_dec(g2c[i], g2hex[i]);
        to_mont(g2c[i], g2c[i], &FQ);
    }
    fe2 one2;
    one2.c0 = FQ.one;
    memset(&one2.c1, 0, sizeof(fe));
    g1_aff *T1 = g1_table(&G1, &FQ.one);
    g2_aff *T2 = g2_table(&G2, &one2);

    fe delta_inv, sc[4];
    finv(&delta_inv, &delta, &FR);

    begin_section(2);
    wr32(32);
    wr(&Q_MOD, 32);
    wr32(32);
    wr(&R_MOD, 32);
    wr32(nVars);
    wr32(nPublic);
    wr32((uint32_t)n);
    from_mont(&sc[0], &alpha, &FR);
    from_mont(&sc[1], &beta, &FR);
    from_mont(&sc[2], &delta, &FR);
    {
        fe s1[1] = {sc[0]}, s2[1] = {sc[1]}, s3[1] = {sc[2]};
        write_g1(s1, 1, T1);         /* alpha1 */
        write_g1(s2, 1, T1);         /* beta1 */
        write_g2(s2, 1, T2, &one2);  /* beta2 */
        g2_aff g2m = G2;
        wr(&g2m, sizeof(g2m));       /* gamma2 = G2 */
        write_g1(s3, 1, T1);         /* delta1 */
        write_g2(s3, 1, T2, &one2);  /* delta2 */
    }
    end_section();

    /* section 4: coefficients of A and B, stored as c * R^2 mod r (plain bytes) */
    begin_section(4);
    wr32((uint32_t)ncoefs);
    p = cons;
    for (uint32_t c = 0; c < nCons; c++) {
        for (uint32_t m = 0; m < 3; m++) {
            uint32_t nt = rd32(r1cs + p);
            p += 4;
            for (uint32_t k = 0; k < nt; k++) {
                uint32_t s = rd32(r1cs + p);
                fe coef;
                memcpy(&coef, r1cs + p + 4, 32);
                p += 36;
                if (m == 2) continue;
                to_mont(&coef, &coef, &FR);
                fmul(&coef, &coef, &FR.r2, &FR);
                wr32(m); wr32(c); wr32(s); wr(&coef, 32);
            }
        }
    }
    for (uint32_t s = 0; s <= nPublic; s++) {
        wr32(0); wr32(nCons + s); wr32(s); wr(&FR.r2, 32);
    }
    end_section();
    free(r1cs);

    /* IC (section 3) and C (section 8): beta a + alpha b + c, C divided by delta */
    fe *K = malloc(sizeof(fe) * nVars);
    if (!K) die("out of memory");
    for (uint32_t s = 0; s < nVars; s++) {
        fe x, y;
        fmul(&x, &beta, &A[s], &FR);
        fmul(&y, &alpha, &B[s], &FR);
        fadd(&x, &x, &y, &FR);
        fadd(&x, &x, &C[s], &FR);
        if (s > nPublic) fmul(&x, &x, &delta_inv, &FR);
        from_mont(&K[s], &x, &FR);
    }
    begin_section(3);
    write_g1(K, nPublic + 1, T1);
    end_section();

    for (u64 j = 0; j < n; j++) {
        fmul(&H[j], &H[j], &delta_inv, &FR);
        from_mont(&H[j], &H[j], &FR);
    }
    begin_section(9);
    write_g1(H, n, T1);
    end_section();
    free(H);
    free(L);

    begin_section(8);
    write_g1(K + nPublic + 1, nVars - nPublic - 1, T1);
    end_section();
    free(K);

    for (uint32_t s = 0; s < nVars; s++) { from_mont(&A[s], &A[s], &FR); from_mont(&B[s], &B[s], &FR); }
    begin_section(5);
    write_g1(A, nVars, T1);
    end_section();
    begin_section(6);
    write_g1(B, nVars, T1);
    end_section();
    begin_section(7);
    write_g2(B, nVars, T2, &one2);
    end_section();

    /* section 10: no phase-2 contributions; the "circuit hash" is zero (no ceremony) */
    begin_section(10);
    unsigned char zero64[64] = {0};
    wr(zero64, 64);
    wr32(0);
    end_section();
    if (fclose(OUT)) die("cannot write the key");
    free(A); free(B); free(C); free(T1); free(T2);
    return 0;
}
