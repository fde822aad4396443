;; The serving hot loop in WebAssembly SIMD: out[i] = p·q_i for every row i of a row-major float32 matrix
;; (k a multiple of 4), two f32x4 accumulators per row. Pointers are byte offsets into the imported memory.
;; Build: pnpm --filter @movierec/core build:wasm
(module
  (import "env" "memory" (memory 1))
  (func (export "dots") (param $Q i32) (param $p i32) (param $k i32) (param $rows i32) (param $out i32)
    (local $rowBytes i32) (local $row i32) (local $end i32) (local $f i32) (local $half i32)
    (local $a0 v128) (local $a1 v128) (local $dst i32)
    (local.set $rowBytes (i32.shl (local.get $k) (i32.const 2)))
    ;; bytes covered by pairs of f32x4 (32 bytes per step); a trailing f32x4 when k % 8 = 4
    (local.set $half (i32.and (local.get $rowBytes) (i32.const -32)))
    (local.set $row (local.get $Q))
    (local.set $end (i32.add (local.get $Q) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (local.set $dst (local.get $out))
    (block $done
      (loop $rowsLoop
        (br_if $done (i32.ge_u (local.get $row) (local.get $end)))
        (local.set $a0 (v128.const f32x4 0 0 0 0))
        (local.set $a1 (v128.const f32x4 0 0 0 0))
        (local.set $f (i32.const 0))
        (block $pairsDone
          (loop $pairs
            (br_if $pairsDone (i32.ge_u (local.get $f) (local.get $half)))
            (local.set $a0
              (f32x4.add (local.get $a0)
                (f32x4.mul (v128.load (i32.add (local.get $row) (local.get $f)))
                           (v128.load (i32.add (local.get $p) (local.get $f))))))
            (local.set $a1
              (f32x4.add (local.get $a1)
                (f32x4.mul (v128.load offset=16 (i32.add (local.get $row) (local.get $f)))
                           (v128.load offset=16 (i32.add (local.get $p) (local.get $f))))))
            (local.set $f (i32.add (local.get $f) (i32.const 32)))
            (br $pairs)))
        (if (i32.lt_u (local.get $f) (local.get $rowBytes))
          (then
            (local.set $a0
              (f32x4.add (local.get $a0)
                (f32x4.mul (v128.load (i32.add (local.get $row) (local.get $f)))
                           (v128.load (i32.add (local.get $p) (local.get $f))))))))
        (local.set $a0 (f32x4.add (local.get $a0) (local.get $a1)))
        (f32.store (local.get $dst)
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
            (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0)))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
        (br $rowsLoop))))
)
