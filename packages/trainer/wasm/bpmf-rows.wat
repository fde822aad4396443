;; The dominant loop of a BPMF row draw (src/engines/bpmf/rows.mjs's sampleRows): the row's Gram sums over its
;; ratings, as one symmetric rank-n update G += Fᵀ F of a batch of gathered rows F (n × dq, row-major, f64).
;; Each row of F is (f_j, t_j, 0 …): the other side's features f_j = (factors, 1) and the target t_j, padded with
;; zeros to dq columns (dq a multiple of 4), so G's lower triangle holds Σ f fᵀ (rows and columns < d) and, in row d,
;; Σ t_j f_j — the precision and right-hand-side sums of Salakhutdinov & Mnih 2008, eq. 12–13, in one pass.
;; The memory is the calling thread's own (imported): F and G are byte offsets into it, filled by rows.mjs.
;; Build: pnpm --filter @movierec/trainer build:wasm
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; G[a, c] += Σ_j F[j, a]·F[j, c] for the 4 × 4 blocks on or below the diagonal (a0 ≥ c0, steps of 4): eight f64x2
  ;; accumulators (4 rows × 2 column pairs) stay in registers over all n rows of F; F[j, a] is splat, F[j, c…c+3]
  ;; loaded as two pairs. Entries above the diagonal inside a diagonal block are summed too (and not read).
  (func $syrk (export "syrk") (param $F i32) (param $n i32) (param $dq i32) (param $G i32)
    (local $stride i32) (local $a0 i32) (local $c0 i32) (local $row i32) (local $pa i32) (local $end i32) (local $span i32)
    (local $g0 i32) (local $g1 i32) (local $g2 i32) (local $g3 i32)
    (local $s v128) (local $b0 v128) (local $b1 v128)
    (local $x00 v128) (local $x01 v128) (local $x10 v128) (local $x11 v128)
    (local $x20 v128) (local $x21 v128) (local $x30 v128) (local $x31 v128)
    (local.set $stride (i32.shl (local.get $dq) (i32.const 3)))
    (local.set $span (i32.mul (local.get $n) (local.get $stride)))
    (local.set $a0 (i32.const 0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $a0) (local.get $dq)))
        (local.set $c0 (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.gt_u (local.get $c0) (local.get $a0)))
            ;; G rows a0 … a0+3 at columns c0 … c0+3 (byte addresses)
            (local.set $g0
              (i32.add (local.get $G)
                (i32.shl (i32.add (i32.mul (local.get $a0) (local.get $dq)) (local.get $c0)) (i32.const 3))))
            (local.set $g1 (i32.add (local.get $g0) (local.get $stride)))
            (local.set $g2 (i32.add (local.get $g1) (local.get $stride)))
            (local.set $g3 (i32.add (local.get $g2) (local.get $stride)))
            (local.set $x00 (v128.load (local.get $g0)))
            (local.set $x01 (v128.load offset=16 (local.get $g0)))
            (local.set $x10 (v128.load (local.get $g1)))
            (local.set $x11 (v128.load offset=16 (local.get $g1)))
            (local.set $x20 (v128.load (local.get $g2)))
            (local.set $x21 (v128.load offset=16 (local.get $g2)))
            (local.set $x30 (v128.load (local.get $g3)))
            (local.set $x31 (v128.load offset=16 (local.get $g3)))
            ;; $row walks F[j, c0], $pa walks F[j, a0]; $end is F[n, c0]
            (local.set $row (i32.add (local.get $F) (i32.shl (local.get $c0) (i32.const 3))))
            (local.set $pa (i32.add (local.get $F) (i32.shl (local.get $a0) (i32.const 3))))
            (local.set $end (i32.add (local.get $row) (local.get $span)))
            (block $done
              (loop $each
                (br_if $done (i32.ge_u (local.get $row) (local.get $end)))
                (local.set $b0
                  (v128.load (local.get $row)))
                (local.set $b1
                  (v128.load offset=16 (local.get $row)))
                (local.set $s
                  (v128.load64_splat (local.get $pa)))
                (local.set $x00 (f64x2.add (local.get $x00) (f64x2.mul (local.get $s) (local.get $b0))))
                (local.set $x01 (f64x2.add (local.get $x01) (f64x2.mul (local.get $s) (local.get $b1))))
                (local.set $s
                  (v128.load64_splat offset=8 (local.get $pa)))
                (local.set $x10 (f64x2.add (local.get $x10) (f64x2.mul (local.get $s) (local.get $b0))))
                (local.set $x11 (f64x2.add (local.get $x11) (f64x2.mul (local.get $s) (local.get $b1))))
                (local.set $s
                  (v128.load64_splat offset=16 (local.get $pa)))
                (local.set $x20 (f64x2.add (local.get $x20) (f64x2.mul (local.get $s) (local.get $b0))))
                (local.set $x21 (f64x2.add (local.get $x21) (f64x2.mul (local.get $s) (local.get $b1))))
                (local.set $s
                  (v128.load64_splat offset=24 (local.get $pa)))
                (local.set $x30 (f64x2.add (local.get $x30) (f64x2.mul (local.get $s) (local.get $b0))))
                (local.set $x31 (f64x2.add (local.get $x31) (f64x2.mul (local.get $s) (local.get $b1))))
                (local.set $row (i32.add (local.get $row) (local.get $stride)))
                (local.set $pa (i32.add (local.get $pa) (local.get $stride)))
                (br $each)))
            (v128.store (local.get $g0) (local.get $x00))
            (v128.store offset=16 (local.get $g0) (local.get $x01))
            (v128.store (local.get $g1) (local.get $x10))
            (v128.store offset=16 (local.get $g1) (local.get $x11))
            (v128.store (local.get $g2) (local.get $x20))
            (v128.store offset=16 (local.get $g2) (local.get $x21))
            (v128.store (local.get $g3) (local.get $x30))
            (v128.store offset=16 (local.get $g3) (local.get $x31))
            (local.set $c0 (i32.add (local.get $c0) (i32.const 4)))
            (br $cols)))
        (local.set $a0 (i32.add (local.get $a0) (i32.const 4)))
        (br $rows))))

  ;; The plain rows' gather and sums in one call: row j of F = (y_c, 1, t_j, 0 …) for c = cols[j] (i32), y_c the
  ;; d = k + 1 float64s of Y's row c (factors, then bias), t_j = vals[j] (f32) − μ − (y_c bias); then G += Fᵀ F.
  ;; A first pass only loads each y_c's two ends, so the cache misses of all n rows are in flight together (the
  ;; copying pass then finds them in cache); its sum is returned only so the loads are kept. n ≤ F's rows.
  (func (export "gather_syrk")
    (param $Y i32) (param $cols i32) (param $vals i32) (param $n i32) (param $d i32) (param $dq i32)
    (param $mean f64) (param $F i32) (param $G i32)
    (result f64)
    (local $j i32) (local $p i32) (local $q i32) (local $a i32) (local $rowBytes i32) (local $kBytes i32)
    (local $pairs i32) (local $touch f64)
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 3)))
    (local.set $kBytes (i32.sub (local.get $rowBytes) (i32.const 8)))
    ;; the factors copied in pairs: ⌈k/2⌉·16 bytes (an odd k copies the bias too, overwritten by the 1 below)
    (local.set $pairs (i32.and (i32.add (local.get $kBytes) (i32.const 15)) (i32.const -16)))
    (local.set $j (i32.const 0))
    (block $touched
      (loop $touch
        (br_if $touched (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $p
          (i32.add (local.get $Y)
            (i32.mul (i32.load (i32.add (local.get $cols) (i32.shl (local.get $j) (i32.const 2))))
                     (local.get $rowBytes))))
        (local.set $touch
          (f64.add (local.get $touch)
            (f64.add (f64.load (local.get $p)) (f64.load (i32.add (local.get $p) (local.get $kBytes))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $touch)))
    (local.set $j (i32.const 0))
    (local.set $q (local.get $F))
    (block $gathered
      (loop $gather
        (br_if $gathered (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $p
          (i32.add (local.get $Y)
            (i32.mul (i32.load (i32.add (local.get $cols) (i32.shl (local.get $j) (i32.const 2))))
                     (local.get $rowBytes))))
        (local.set $a (i32.const 0))
        (block $copied
          (loop $copy
            (br_if $copied (i32.ge_u (local.get $a) (local.get $pairs)))
            (v128.store (i32.add (local.get $q) (local.get $a))
              (v128.load (i32.add (local.get $p) (local.get $a))))
            (local.set $a (i32.add (local.get $a) (i32.const 16)))
            (br $copy)))
        ;; F[j, k] = 1; F[j, d] = t_j = (r_j − μ) − y_c bias (the scalar path's order)
        (f64.store (i32.add (local.get $q) (local.get $kBytes)) (f64.const 1))
        (f64.store (i32.add (local.get $q) (local.get $rowBytes))
          (f64.sub
            (f64.sub
              (f64.promote_f32 (f32.load (i32.add (local.get $vals) (i32.shl (local.get $j) (i32.const 2)))))
              (local.get $mean))
            (f64.load (i32.add (local.get $p) (local.get $kBytes)))))
        (local.set $q (i32.add (local.get $q) (i32.shl (local.get $dq) (i32.const 3))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $gather)))
    (call $syrk (local.get $F) (local.get $n) (local.get $dq) (local.get $G))
    (local.get $touch))
;; ---- the rest of a row's draw, after its sums: the arithmetic of rows.mjs's drawGaussian, cholesky and solve,
  ;; operation for operation (no fused multiply-add in WebAssembly), so it gives their results bit for bit. Matrices
  ;; are d × d row-major f64 (lower triangle used); pointers are byte offsets, walked row by row (V8 does not inline
  ;; WebAssembly calls, so no address helper).

  ;; The row's system from its sums G (dq × dq, syrk's): P = Λ + α G (lower triangle), B = Λμ + α G[d, :], then
  ;; B += Λ s (s at $shift, when $shift ≠ 0: the prior-mean shift), each Σ_b summed from 0 in b order.
  (func (export "system")
    (param $G i32) (param $dq i32) (param $lam i32) (param $lmu i32) (param $alpha f64) (param $shift i32)
    (param $P i32) (param $B i32) (param $d i32)
    (local $a i32) (local $b i32) (local $rowBytes i32) (local $p i32) (local $l i32) (local $g i32) (local $end i32)
    (local $sumRow i32) (local $t f64)
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 3)))
    ;; G's row d: Σ_j t_j f_j
    (local.set $sumRow (i32.add (local.get $G) (i32.shl (i32.mul (local.get $d) (local.get $dq)) (i32.const 3))))
    (local.set $a (i32.const 0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $a) (local.get $d)))
        (local.set $p (i32.add (local.get $P) (i32.mul (local.get $a) (local.get $rowBytes))))
        (local.set $l (i32.add (local.get $lam) (i32.mul (local.get $a) (local.get $rowBytes))))
        (local.set $g (i32.add (local.get $G) (i32.shl (i32.mul (local.get $a) (local.get $dq)) (i32.const 3))))
        ;; entries b = 0 … a of the row
        (local.set $end (i32.add (local.get $p) (i32.shl (i32.add (local.get $a) (i32.const 1)) (i32.const 3))))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $p) (local.get $end)))
            (f64.store (local.get $p)
              (f64.add (f64.load (local.get $l)) (f64.mul (local.get $alpha) (f64.load (local.get $g)))))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (local.set $l (i32.add (local.get $l) (i32.const 8)))
            (local.set $g (i32.add (local.get $g) (i32.const 8)))
            (br $cols)))
        (f64.store (i32.add (local.get $B) (i32.shl (local.get $a) (i32.const 3)))
          (f64.add (f64.load (i32.add (local.get $lmu) (i32.shl (local.get $a) (i32.const 3))))
            (f64.mul (local.get $alpha)
              (f64.load (i32.add (local.get $sumRow) (i32.shl (local.get $a) (i32.const 3)))))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (br $rows)))
    (if (local.get $shift)
      (then
        (local.set $a (i32.const 0))
        (block $done
          (loop $each
            (br_if $done (i32.ge_u (local.get $a) (local.get $d)))
            (local.set $t (f64.const 0))
            (local.set $l (i32.add (local.get $lam) (i32.mul (local.get $a) (local.get $rowBytes))))
            (local.set $b (i32.const 0))
            (block $dotDone
              (loop $dot
                (br_if $dotDone (i32.ge_u (local.get $b) (local.get $rowBytes)))
                (local.set $t
                  (f64.add (local.get $t)
                    (f64.mul (f64.load (i32.add (local.get $l) (local.get $b)))
                      (f64.load (i32.add (local.get $shift) (local.get $b))))))
                (local.set $b (i32.add (local.get $b) (i32.const 8)))
                (br $dot)))
            (local.set $p (i32.add (local.get $B) (i32.shl (local.get $a) (i32.const 3))))
            (f64.store (local.get $p) (f64.add (f64.load (local.get $p)) (local.get $t)))
            (local.set $a (i32.add (local.get $a) (i32.const 1)))
            (br $each))))))

  ;; Lᵀ x = y in place in the vector at $v (L the lower triangle at $L): x_i = (y_i − Σ_{m>i} L_mi x_m) / L_ii.
  (func $backSolve (param $L i32) (param $v i32) (param $d i32)
    (local $i i32) (local $rowBytes i32) (local $col i32) (local $vi i32) (local $vm i32) (local $end i32)
    (local $s f64)
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 3)))
    (local.set $end (i32.add (local.get $v) (local.get $rowBytes)))
    (local.set $i (i32.sub (local.get $d) (i32.const 1)))
    (block $done
      (loop $each
        (br_if $done (i32.lt_s (local.get $i) (i32.const 0)))
        (local.set $vi (i32.add (local.get $v) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $s (f64.load (local.get $vi)))
        ;; L[i, i], then down column i: L[m, i] for m = i + 1 …, against v[m]
        (local.set $col
          (i32.add (local.get $L) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $d)) (local.get $i)) (i32.const 3))))
        (local.set $vm (i32.add (local.get $vi) (i32.const 8)))
        (block $sumDone
          (loop $sum
            (br_if $sumDone (i32.ge_u (local.get $vm) (local.get $end)))
            (local.set $col (i32.add (local.get $col) (local.get $rowBytes)))
            (local.set $s (f64.sub (local.get $s) (f64.mul (f64.load (local.get $col)) (f64.load (local.get $vm)))))
            (local.set $vm (i32.add (local.get $vm) (i32.const 8)))
            (br $sum)))
        (f64.store (local.get $vi)
          (f64.div (local.get $s)
            (f64.load
              (i32.add (local.get $L)
                (i32.shl (i32.add (i32.mul (local.get $i) (local.get $d)) (local.get $i)) (i32.const 3))))))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $each))))

  ;; x ~ N(P⁻¹ B, P⁻¹) with z ~ N(0, I) given at $Z (Rue 2001, alg. 2.5): P = L Lᵀ in place (Cholesky–Banachiewicz:
  ;; L_jj = √(P_jj − Σ_m L_jm²), L_ij = (P_ij − Σ_m L_im L_jm) / L_jj), B ← L⁻ᵀ L⁻¹ B, Z ← L⁻ᵀ Z, out = B + Z.
  ;; Returns 0 (out untouched) when P is not positive definite, else 1.
  (func (export "draw") (param $P i32) (param $B i32) (param $Z i32) (param $out i32) (param $d i32) (result i32)
    (local $i i32) (local $j i32) (local $m i32) (local $rowBytes i32) (local $rowJ i32) (local $rowI i32)
    (local $jBytes i32) (local $s f64) (local $t f64) (local $ljj f64)
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 3)))
    (local.set $j (i32.const 0))
    (block $factored
      (loop $cols
        (br_if $factored (i32.ge_u (local.get $j) (local.get $d)))
        (local.set $rowJ (i32.add (local.get $P) (i32.mul (local.get $j) (local.get $rowBytes))))
        (local.set $jBytes (i32.shl (local.get $j) (i32.const 3)))
        (local.set $s (f64.load (i32.add (local.get $rowJ) (local.get $jBytes))))
        (local.set $m (i32.const 0))
        (block $diagDone
          (loop $diag
            (br_if $diagDone (i32.ge_u (local.get $m) (local.get $jBytes)))
            (local.set $t (f64.load (i32.add (local.get $rowJ) (local.get $m))))
            (local.set $s (f64.sub (local.get $s) (f64.mul (local.get $t) (local.get $t))))
            (local.set $m (i32.add (local.get $m) (i32.const 8)))
            (br $diag)))
        ;; not (s > 0): also NaN
        (if (i32.eqz (f64.gt (local.get $s) (f64.const 0))) (then (return (i32.const 0))))
        (local.set $ljj (f64.sqrt (local.get $s)))
        (f64.store (i32.add (local.get $rowJ) (local.get $jBytes)) (local.get $ljj))
        (local.set $rowI (i32.add (local.get $rowJ) (local.get $rowBytes)))
        (local.set $i (i32.add (local.get $j) (i32.const 1)))
        (block $belowDone
          (loop $below
            (br_if $belowDone (i32.ge_u (local.get $i) (local.get $d)))
            (local.set $t (f64.load (i32.add (local.get $rowI) (local.get $jBytes))))
            (local.set $m (i32.const 0))
            (block $dotDone
              (loop $dot
                (br_if $dotDone (i32.ge_u (local.get $m) (local.get $jBytes)))
                (local.set $t
                  (f64.sub (local.get $t)
                    (f64.mul (f64.load (i32.add (local.get $rowI) (local.get $m)))
                      (f64.load (i32.add (local.get $rowJ) (local.get $m))))))
                (local.set $m (i32.add (local.get $m) (i32.const 8)))
                (br $dot)))
            (f64.store (i32.add (local.get $rowI) (local.get $jBytes)) (f64.div (local.get $t) (local.get $ljj)))
            (local.set $rowI (i32.add (local.get $rowI) (local.get $rowBytes)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $below)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $cols)))
    ;; L y = B (forward): y_i = (B_i − Σ_{m<i} L_im y_m) / L_ii
    (local.set $i (i32.const 0))
    (local.set $rowI (local.get $P))
    (block $fwdDone
      (loop $fwd
        (br_if $fwdDone (i32.ge_u (local.get $i) (local.get $d)))
        (local.set $jBytes (i32.shl (local.get $i) (i32.const 3)))
        (local.set $s (f64.load (i32.add (local.get $B) (local.get $jBytes))))
        (local.set $m (i32.const 0))
        (block $sumDone
          (loop $sum
            (br_if $sumDone (i32.ge_u (local.get $m) (local.get $jBytes)))
            (local.set $s
              (f64.sub (local.get $s)
                (f64.mul (f64.load (i32.add (local.get $rowI) (local.get $m)))
                  (f64.load (i32.add (local.get $B) (local.get $m))))))
            (local.set $m (i32.add (local.get $m) (i32.const 8)))
            (br $sum)))
        (f64.store (i32.add (local.get $B) (local.get $jBytes))
          (f64.div (local.get $s) (f64.load (i32.add (local.get $rowI) (local.get $jBytes)))))
        (local.set $rowI (i32.add (local.get $rowI) (local.get $rowBytes)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $fwd)))
    (call $backSolve (local.get $P) (local.get $B) (local.get $d))
    (call $backSolve (local.get $P) (local.get $Z) (local.get $d))
    (local.set $m (i32.const 0))
    (block $outDone
      (loop $outs
        (br_if $outDone (i32.ge_u (local.get $m) (local.get $rowBytes)))
        (f64.store (i32.add (local.get $out) (local.get $m))
          (f64.add (f64.load (i32.add (local.get $B) (local.get $m))) (f64.load (i32.add (local.get $Z) (local.get $m)))))
        (local.set $m (i32.add (local.get $m) (i32.const 8)))
        (br $outs)))
    (i32.const 1))
;; ---- the training SSE (rows.mjs's sseRows), user by user, in its order of operations: bit for bit the same sum.

  ;; acc + Σ_j (r_j − p_j)², p_j = (μ + b_u + b_c) + Σ_a p_u,a · v_c,a (a = 0 … k−1 in order), c = cols[j]: the user's
  ;; row at $u (k factors, then b_u), V's rows of d = k + 1 (factors, then b_c) at $V, the ratings' cols (i32) and
  ;; values (f32). Returns the new acc.
  (func (export "sse_row")
    (param $u i32) (param $V i32) (param $d i32) (param $cols i32) (param $vals i32) (param $n i32)
    (param $mean f64) (param $acc f64) (result f64)
    (local $j i32) (local $a i32) (local $v i32) (local $rowBytes i32) (local $kBytes i32) (local $base f64)
    (local $p f64) (local $err f64)
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 3)))
    (local.set $kBytes (i32.sub (local.get $rowBytes) (i32.const 8)))
    (local.set $base (f64.add (local.get $mean) (f64.load (i32.add (local.get $u) (local.get $kBytes)))))
    (local.set $j (i32.const 0))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $v
          (i32.add (local.get $V)
            (i32.mul (i32.load (i32.add (local.get $cols) (i32.shl (local.get $j) (i32.const 2))))
                     (local.get $rowBytes))))
        (local.set $p (f64.add (local.get $base) (f64.load (i32.add (local.get $v) (local.get $kBytes)))))
        (local.set $a (i32.const 0))
        (block $dotDone
          (loop $dot
            (br_if $dotDone (i32.ge_u (local.get $a) (local.get $kBytes)))
            (local.set $p
              (f64.add (local.get $p)
                (f64.mul (f64.load (i32.add (local.get $u) (local.get $a)))
                  (f64.load (i32.add (local.get $v) (local.get $a))))))
            (local.set $a (i32.add (local.get $a) (i32.const 8)))
            (br $dot)))
        (local.set $err
          (f64.sub
            (f64.promote_f32 (f32.load (i32.add (local.get $vals) (i32.shl (local.get $j) (i32.const 2)))))
            (local.get $p)))
        (local.set $acc (f64.add (local.get $acc) (f64.mul (local.get $err) (local.get $err))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $each)))
    (local.get $acc))
)
