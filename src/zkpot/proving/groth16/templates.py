"""The fixed circom templates of the accuracy circuit (see :mod:`.circom` for the bounds).

:func:`zkpot.proving.groth16.circom.emit_circuit` writes these verbatim into every
circuit, then the per-spec hash templates and the main component.
"""

TEMPLATES = r"""
// in[i] + OFFSET is range-checked to [0, 2^BITS) and packed, 253 \ BITS per output.
template RangePack(n, BITS, OFFSET) {
    signal input in[n];
    var K = 253 \ BITS;
    var M = (n + K - 1) \ K;
    signal output out[M];
    component bits[n];
    // Powers are computed once: a field power per use dominated the witness time.
    var shift[K];
    shift[0] = 1;
    for (var t = 1; t < K; t++) shift[t] = shift[t - 1] * (2 ** BITS);
    var acc[M];
    for (var j = 0; j < M; j++) acc[j] = 0;
    for (var i = 0; i < n; i++) {
        bits[i] = Num2Bits(BITS);
        bits[i].in <== in[i] + OFFSET;
        acc[i \ K] += (in[i] + OFFSET) * shift[i % K];
    }
    for (var j = 0; j < M; j++) out[j] <== acc[j];
}

// h = ReLU(a . w^T + b) with |a . w^T + b| < 2^R; G neurons share one multiplication
// per input (digits of R + 1 bits, each digit z + 2^R decomposed: bound and sign).
template HiddenLayer(N, DIN, DOUT, G, R) {
    signal input a[N][DIN];
    signal input w[DOUT][DIN];
    signal input b[DOUT];
    signal output h[N][DOUT];
    var D = R + 1;
    var NG = (DOUT + G - 1) \ G;
    signal m[N][NG][DIN];
    signal u[N][DOUT];
    component bits[N][DOUT];
    var half = 2 ** R;
    var mask = 2 ** D - 1;
    var shift[G];
    shift[0] = 1;
    for (var t = 1; t < G; t++) shift[t] = shift[t - 1] * (2 ** D);
    for (var n = 0; n < N; n++) {
        for (var g = 0; g < NG; g++) {
            var total = 0;
            for (var i = 0; i < DIN; i++) {
                var packed = 0;
                for (var t = 0; t < G; t++) {
                    if (g * G + t < DOUT) packed += w[g * G + t][i] * shift[t];
                }
                m[n][g][i] <== a[n][i] * packed;
                total += m[n][g][i];
            }
            // All offsets first: only then is every digit non-negative (no field wrap).
            for (var t = 0; t < G; t++) {
                if (g * G + t < DOUT) total += (b[g * G + t] + half) * shift[t];
            }
            var digits = 0;
            for (var t = 0; t < G; t++) {
                if (g * G + t < DOUT) {
                    var j = g * G + t;
                    u[n][j] <-- (total >> (D * t)) & mask;
                    bits[n][j] = Num2Bits(D);
                    bits[n][j].in <== u[n][j];
                    digits += u[n][j] * shift[t];
                    h[n][j] <== bits[n][j].out[R] * (u[n][j] - half);
                }
            }
            total === digits;
        }
    }
}

// h = ReLU(conv(a, w) + b): stride 1, zero padding P, square images stored row-major
// (channel, row, column). G output channels share one multiplication per input term,
// as in HiddenLayer; padded terms are zero and get no multiplication.
template HiddenConv(N, CIN, COUT, S, K, P, G, R) {
    var OS = S + 2 * P - K + 1;
    signal input a[N][CIN * S * S];
    signal input w[COUT][CIN * K * K];
    signal input b[COUT];
    signal output h[N][COUT * OS * OS];
    var D = R + 1;
    var NG = (COUT + G - 1) \ G;
    signal m[N][OS * OS][NG][CIN * K * K];
    signal u[N][COUT * OS * OS];
    component bits[N][COUT * OS * OS];
    var half = 2 ** R;
    var mask = 2 ** D - 1;
    var shift[G];
    shift[0] = 1;
    for (var t = 1; t < G; t++) shift[t] = shift[t - 1] * (2 ** D);
    for (var n = 0; n < N; n++) {
        for (var pos = 0; pos < OS * OS; pos++) {
            var y = pos \ OS;
            var x = pos % OS;
            for (var g = 0; g < NG; g++) {
                var total = 0;
                for (var c = 0; c < CIN; c++) {
                    for (var k = 0; k < K * K; k++) {
                        var iy = y + k \ K - P;
                        var ix = x + k % K - P;
                        if (iy >= 0 && iy < S && ix >= 0 && ix < S) {
                            var packed = 0;
                            for (var t = 0; t < G; t++) {
                                if (g * G + t < COUT) {
                                    packed += w[g * G + t][c * K * K + k] * shift[t];
                                }
                            }
                            m[n][pos][g][c * K * K + k] <== a[n][c * S * S + iy * S + ix] * packed;
                            total += m[n][pos][g][c * K * K + k];
                        } else {
                            m[n][pos][g][c * K * K + k] <== 0;
                        }
                    }
                }
                for (var t = 0; t < G; t++) {
                    if (g * G + t < COUT) total += (b[g * G + t] + half) * shift[t];
                }
                var digits = 0;
                for (var t = 0; t < G; t++) {
                    if (g * G + t < COUT) {
                        var j = (g * G + t) * OS * OS + pos;
                        u[n][j] <-- (total >> (D * t)) & mask;
                        bits[n][j] = Num2Bits(D);
                        bits[n][j].in <== u[n][j];
                        digits += u[n][j] * shift[t];
                        h[n][j] <== bits[n][j].out[R] * (u[n][j] - half);
                    }
                }
                total === digits;
            }
        }
    }
}

// q = (window sum + K*K/2) \ (K*K) over non-negative a < 2^QBITS; K*K a power of two:
// sum + K*K/2 = K*K q + r with r and q decomposed (r < K*K, q < 2^QBITS).
template AvgPool(N, C, S, K, QBITS) {
    var OS = S \ K;
    var AREA = K * K;
    var RBITS = 0;
    while ((1 << RBITS) < AREA) RBITS++;
    signal input a[N][C * S * S];
    signal output q[N][C * OS * OS];
    signal r[N][C * OS * OS];
    component qbits[N][C * OS * OS];
    component rbits[N][C * OS * OS];
    for (var n = 0; n < N; n++) {
        for (var c = 0; c < C; c++) {
            for (var pos = 0; pos < OS * OS; pos++) {
                var y = pos \ OS;
                var x = pos % OS;
                var sum = AREA \ 2;
                for (var k = 0; k < AREA; k++) {
                    sum += a[n][c * S * S + (y * K + k \ K) * S + x * K + k % K];
                }
                var j = c * OS * OS + pos;
                q[n][j] <-- sum \ AREA;
                r[n][j] <-- sum % AREA;
                sum === q[n][j] * AREA + r[n][j];
                qbits[n][j] = Num2Bits(QBITS);
                qbits[n][j].in <== q[n][j];
                rbits[n][j] = Num2Bits(RBITS);
                rbits[n][j].in <== r[n][j];
            }
        }
    }
}

// correct = #samples whose label's logit z = a . w^T + b beats every other strictly.
// |z| <= Zmax < 2^(K-1). The prover names truth (the label's logit, truth + 2^(K-1) in K
// bits); G classes share one multiplication per input, and each group's packed
//   sum_t (truth - z_t - 1 + 2^K) 2^((K+1) t)
// is decomposed into digits of K + 1 bits. Every such term lies in (0, 2^(K+1)) for any
// truth in range, so the digits are exactly those terms (G (K+1) <= 253: no wrap); the
// label's digit must equal 2^K - 1, which pins truth to the label's logit; a digit's top
// bit says truth > z_t. The logits themselves are never signals.
template OutputWins(N, DIN, C, G, K) {
    signal input a[N][DIN];
    signal input w[C][DIN];
    signal input b[C];
    signal input label[N];
    signal output correct;
    var D = K + 1;
    var NG = (C + G - 1) \ G;
    signal m[N][NG][DIN];
    signal truth[N];
    signal d[N][C];
    signal onehot[N][C];
    signal picked[N][C];
    signal inv[N];
    signal hit[N];
    component span[N];
    component cmp[N][C];
    var offset = 2 ** K;
    var shift[G];
    shift[0] = 1;
    for (var t = 1; t < G; t++) shift[t] = shift[t - 1] * (2 ** D);
    var count = 0;
    for (var n = 0; n < N; n++) {
        var ones = 0;
        var index = 0;
        var chosen = 0;
        var z[C];
        for (var c = 0; c < C; c++) {
            onehot[n][c] <-- label[n] == c ? 1 : 0;
            onehot[n][c] * (onehot[n][c] - 1) === 0;
            ones += onehot[n][c];
            index += c * onehot[n][c];
            z[c] = b[c];
            for (var i = 0; i < DIN; i++) z[c] += a[n][i] * w[c][i];
            chosen += onehot[n][c] * z[c];
        }
        ones === 1;
        index === label[n];
        truth[n] <-- chosen;
        span[n] = Num2Bits(K);
        span[n].in <== truth[n] + 2 ** (K - 1);
        var wins = 0;
        var selected = 0;
        for (var g = 0; g < NG; g++) {
            var total = 0;
            for (var i = 0; i < DIN; i++) {
                var packed = 0;
                for (var t = 0; t < G; t++) {
                    if (g * G + t < C) packed += w[g * G + t][i] * shift[t];
                }
                m[n][g][i] <== a[n][i] * packed;
                total -= m[n][g][i];
            }
            var digits = 0;
            for (var t = 0; t < G; t++) {
                if (g * G + t < C) {
                    var c = g * G + t;
                    total += (truth[n] - b[c] - 1 + offset) * shift[t];
                    d[n][c] <-- truth[n] - z[c] - 1 + offset;
                }
            }
            for (var t = 0; t < G; t++) {
                if (g * G + t < C) {
                    var c = g * G + t;
                    cmp[n][c] = Num2Bits(D);
                    cmp[n][c].in <== d[n][c];
                    digits += d[n][c] * shift[t];
                    picked[n][c] <== onehot[n][c] * d[n][c];
                    selected += picked[n][c];
                    wins += cmp[n][c].out[K];
                }
            }
            total === digits;
        }
        selected === offset - 1;
        // The label's own comparison always loses, so a hit is wins == C - 1.
        inv[n] <-- wins - (C - 1) != 0 ? 1 / (wins - (C - 1)) : 0;
        hit[n] <== 1 - (wins - (C - 1)) * inv[n];
        (wins - (C - 1)) * hit[n] === 0;
        count += hit[n];
    }
    correct <== count;
}
"""
