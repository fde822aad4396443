;; Blocked SGD kernel (LIBMF's layout: Chin, Zhuang, Juan & Lin 2015): the ratings of one block of the rating
;; matrix lie contiguously as packed 12-byte rows (user i32, item i32, rating f32), so a block streams through
;; memory while its user and item factor rows stay in cache. The memory is SHARED: worker threads run this same
;; module on the same parameters, each on blocks that share no user and no item (src/engines/sgd-parallel.ts).
;; Maths: src/engines/sgd-blocks.ts (sgdBlockPassJs is the float64 reference a test compares against).
;; Build: pnpm --filter @movierec/trainer build:wasm
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; Funk/Koren SGD over packed rows [start, end) (Koren, Bell & Volinsky 2009, eq. 5): e = r − (μ + b_u + b_i + p_u·q_i);
  ;; b ← decayBias·b + γe; p_u ← decay·p_u + γe·q_i; q_i ← decay·q_i + γe·p_u (old values), decay = 1 − γλ,
  ;; decayBias = 1 − γλ_b. k (factors) is a multiple of 8. Returns Σe² of the pre-update errors (in float64).
  (func (export "sgd_block")
    (param $P i32) (param $Q i32) (param $bu i32) (param $bi i32)
    (param $rows i32) (param $start i32) (param $end i32) (param $k i32) (param $mu f32)
    (param $gamma f32) (param $decay f32) (param $decayBias f32)
    (result f64)
    (local $r i32) (local $last i32) (local $u i32) (local $i i32) (local $rowBytes i32) (local $f i32)
    (local $pu i32) (local $qi i32) (local $ua i32) (local $ia i32)
    (local $acc0 v128) (local $acc1 v128) (local $p0 v128) (local $q0 v128) (local $p1 v128) (local $q1 v128)
    (local $gev v128) (local $dv v128)
    (local $e f32) (local $ge f32) (local $sse f64)
    (local.set $rowBytes (i32.shl (local.get $k) (i32.const 2)))
    (local.set $dv (f32x4.splat (local.get $decay)))
    (local.set $r (i32.add (local.get $rows) (i32.mul (local.get $start) (i32.const 12))))
    (local.set $last (i32.add (local.get $rows) (i32.mul (local.get $end) (i32.const 12))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $r) (local.get $last)))
        (local.set $u (i32.load (local.get $r)))
        (local.set $i (i32.load offset=4 (local.get $r)))
        (local.set $pu (i32.add (local.get $P) (i32.mul (local.get $u) (local.get $rowBytes))))
        (local.set $qi (i32.add (local.get $Q) (i32.mul (local.get $i) (local.get $rowBytes))))
        (local.set $ua (i32.add (local.get $bu) (i32.shl (local.get $u) (i32.const 2))))
        (local.set $ia (i32.add (local.get $bi) (i32.shl (local.get $i) (i32.const 2))))
        ;; p_u·q_i with two independent accumulators (8 lanes per step)
        (local.set $acc0 (v128.const f32x4 0 0 0 0))
        (local.set $acc1 (v128.const f32x4 0 0 0 0))
        (local.set $f (i32.const 0))
        (block $dotDone
          (loop $dot
            (br_if $dotDone (i32.ge_u (local.get $f) (local.get $rowBytes)))
            (local.set $acc0
              (f32x4.add (local.get $acc0)
                (f32x4.mul (v128.load (i32.add (local.get $pu) (local.get $f)))
                           (v128.load (i32.add (local.get $qi) (local.get $f))))))
            (local.set $acc1
              (f32x4.add (local.get $acc1)
                (f32x4.mul (v128.load offset=16 (i32.add (local.get $pu) (local.get $f)))
                           (v128.load offset=16 (i32.add (local.get $qi) (local.get $f))))))
            (local.set $f (i32.add (local.get $f) (i32.const 32)))
            (br $dot)))
        (local.set $acc0 (f32x4.add (local.get $acc0) (local.get $acc1)))
        (local.set $e
          (f32.sub
            (f32.load offset=8 (local.get $r))
            (f32.add
              (f32.add (f32.add (local.get $mu) (f32.load (local.get $ua))) (f32.load (local.get $ia)))
              (f32.add
                (f32.add (f32x4.extract_lane 0 (local.get $acc0)) (f32x4.extract_lane 1 (local.get $acc0)))
                (f32.add (f32x4.extract_lane 2 (local.get $acc0)) (f32x4.extract_lane 3 (local.get $acc0)))))))
        (local.set $sse
          (f64.add (local.get $sse) (f64.mul (f64.promote_f32 (local.get $e)) (f64.promote_f32 (local.get $e)))))
        (local.set $ge (f32.mul (local.get $gamma) (local.get $e)))
        (f32.store (local.get $ua) (f32.add (f32.mul (local.get $decayBias) (f32.load (local.get $ua))) (local.get $ge)))
        (f32.store (local.get $ia) (f32.add (f32.mul (local.get $decayBias) (f32.load (local.get $ia))) (local.get $ge)))
        (local.set $gev (f32x4.splat (local.get $ge)))
        (local.set $f (i32.const 0))
        (block $updDone
          (loop $upd
            (br_if $updDone (i32.ge_u (local.get $f) (local.get $rowBytes)))
            (local.set $p0 (v128.load (i32.add (local.get $pu) (local.get $f))))
            (local.set $q0 (v128.load (i32.add (local.get $qi) (local.get $f))))
            (local.set $p1 (v128.load offset=16 (i32.add (local.get $pu) (local.get $f))))
            (local.set $q1 (v128.load offset=16 (i32.add (local.get $qi) (local.get $f))))
            (v128.store (i32.add (local.get $pu) (local.get $f))
              (f32x4.add (f32x4.mul (local.get $dv) (local.get $p0)) (f32x4.mul (local.get $gev) (local.get $q0))))
            (v128.store (i32.add (local.get $qi) (local.get $f))
              (f32x4.add (f32x4.mul (local.get $dv) (local.get $q0)) (f32x4.mul (local.get $gev) (local.get $p0))))
            (v128.store offset=16 (i32.add (local.get $pu) (local.get $f))
              (f32x4.add (f32x4.mul (local.get $dv) (local.get $p1)) (f32x4.mul (local.get $gev) (local.get $q1))))
            (v128.store offset=16 (i32.add (local.get $qi) (local.get $f))
              (f32x4.add (f32x4.mul (local.get $dv) (local.get $q1)) (f32x4.mul (local.get $gev) (local.get $p1))))
            (local.set $f (i32.add (local.get $f) (i32.const 32)))
            (br $upd)))
        (local.set $r (i32.add (local.get $r) (i32.const 12)))
        (br $each)))
    (local.get $sse))
)
