;; SIMD (f32x4) inner loops of @gcvi/kernels' fused kernels. Hand-written; compiled to
;; src/wasm/simd_wasm.ts by scripts/build-wasm.mjs (wabt). All pointers are byte offsets into this
;; module's own memory, all lengths are in floats and multiples of 4 (callers zero-pad).

(module
  (memory (export "memory") 1)

  ;; Horizontal sum of the 4 lanes.
  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; Dense 2 -> W -> 2 forward for one example (x0, x1):
  ;; out[0..1] = sum_j relu(x0 a_j + x1 b_j) * (c_j, d_j), with a, b the rows of W1 and c, d the
  ;; columns of W2 (de-interleaved by the caller).
  (func (export "dense22_fwd")
    (param $x0 f32) (param $x1 f32)
    (param $pa i32) (param $pb i32) (param $pc i32) (param $pd i32)
    (param $n i32) (param $out i32)
    (local $off i32) (local $vx0 v128) (local $vx1 v128) (local $acc0 v128) (local $acc1 v128)
    (local $h v128) (local $zero v128)
    (local.set $vx0 (f32x4.splat (local.get $x0)))
    (local.set $vx1 (f32x4.splat (local.get $x1)))
    (local.set $zero (v128.const f32x4 0 0 0 0))
    (local.set $acc0 (local.get $zero))
    (local.set $acc1 (local.get $zero))
    (local.set $n (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $off) (local.get $n)))
        (local.set $h
          (f32x4.max
            (f32x4.add
              (f32x4.mul (local.get $vx0) (v128.load (i32.add (local.get $pa) (local.get $off))))
              (f32x4.mul (local.get $vx1) (v128.load (i32.add (local.get $pb) (local.get $off)))))
            (local.get $zero)))
        (local.set $acc0
          (f32x4.add (local.get $acc0)
            (f32x4.mul (local.get $h) (v128.load (i32.add (local.get $pc) (local.get $off))))))
        (local.set $acc1
          (f32x4.add (local.get $acc1)
            (f32x4.mul (local.get $h) (v128.load (i32.add (local.get $pd) (local.get $off))))))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $loop)))
    (f32.store (local.get $out) (call $hsum (local.get $acc0)))
    (f32.store offset=4 (local.get $out) (call $hsum (local.get $acc1))))

  ;; Dense 2 -> W -> 2 backward for one example, accumulating into the gradient buffers:
  ;; with pre = x0 a + x1 b, h = relu(pre), g = (d0 c + d1 d) * [pre > 0]:
  ;; gc += h d0, gd += h d1, ga += x0 g, gb += x1 g; out[0..1] = (sum g a, sum g b) = dx.
  (func (export "dense22_bwd")
    (param $x0 f32) (param $x1 f32) (param $d0 f32) (param $d1 f32)
    (param $pa i32) (param $pb i32) (param $pc i32) (param $pd i32)
    (param $ga i32) (param $gb i32) (param $gc i32) (param $gd i32)
    (param $n i32) (param $out i32)
    (local $off i32) (local $vx0 v128) (local $vx1 v128) (local $vd0 v128) (local $vd1 v128)
    (local $zero v128) (local $wa v128) (local $wb v128) (local $pre v128) (local $h v128)
    (local $g v128) (local $dxa v128) (local $dxb v128) (local $p i32)
    (local.set $vx0 (f32x4.splat (local.get $x0)))
    (local.set $vx1 (f32x4.splat (local.get $x1)))
    (local.set $vd0 (f32x4.splat (local.get $d0)))
    (local.set $vd1 (f32x4.splat (local.get $d1)))
    (local.set $zero (v128.const f32x4 0 0 0 0))
    (local.set $dxa (local.get $zero))
    (local.set $dxb (local.get $zero))
    (local.set $n (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $off) (local.get $n)))
        (local.set $wa (v128.load (i32.add (local.get $pa) (local.get $off))))
        (local.set $wb (v128.load (i32.add (local.get $pb) (local.get $off))))
        (local.set $pre
          (f32x4.add (f32x4.mul (local.get $vx0) (local.get $wa)) (f32x4.mul (local.get $vx1) (local.get $wb))))
        (local.set $h (f32x4.max (local.get $pre) (local.get $zero)))
        (local.set $p (i32.add (local.get $gc) (local.get $off)))
        (v128.store (local.get $p)
          (f32x4.add (v128.load (local.get $p)) (f32x4.mul (local.get $h) (local.get $vd0))))
        (local.set $p (i32.add (local.get $gd) (local.get $off)))
        (v128.store (local.get $p)
          (f32x4.add (v128.load (local.get $p)) (f32x4.mul (local.get $h) (local.get $vd1))))
        (local.set $g
          (v128.and
            (f32x4.add
              (f32x4.mul (local.get $vd0) (v128.load (i32.add (local.get $pc) (local.get $off))))
              (f32x4.mul (local.get $vd1) (v128.load (i32.add (local.get $pd) (local.get $off)))))
            (f32x4.gt (local.get $pre) (local.get $zero))))
        (local.set $p (i32.add (local.get $ga) (local.get $off)))
        (v128.store (local.get $p)
          (f32x4.add (v128.load (local.get $p)) (f32x4.mul (local.get $vx0) (local.get $g))))
        (local.set $p (i32.add (local.get $gb) (local.get $off)))
        (v128.store (local.get $p)
          (f32x4.add (v128.load (local.get $p)) (f32x4.mul (local.get $vx1) (local.get $g))))
        (local.set $dxa (f32x4.add (local.get $dxa) (f32x4.mul (local.get $g) (local.get $wa))))
        (local.set $dxb (f32x4.add (local.get $dxb) (f32x4.mul (local.get $g) (local.get $wb))))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $loop)))
    (f32.store (local.get $out) (call $hsum (local.get $dxa)))
    (f32.store offset=4 (local.get $out) (call $hsum (local.get $dxb))))

  ;; 1 when any of n floats at $p is NaN or +-Inf (x * 0 is NaN exactly for those), else 0.
  (func (export "nonfinite") (param $p i32) (param $n i32) (result i32)
    (local $off i32) (local $acc v128) (local $zero v128) (local $s f32)
    (local.set $zero (v128.const f32x4 0 0 0 0))
    (local.set $acc (local.get $zero))
    (local.set $n (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $off) (local.get $n)))
        (local.set $acc
          (f32x4.add (local.get $acc)
            (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $off))) (local.get $zero))))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $loop)))
    (local.set $s (call $hsum (local.get $acc)))
    (f32.ne (local.get $s) (local.get $s)))

  ;; Adam over n floats, in place: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
  ;; p -= lrc1 m / (sqrt(c2 v) + eps), with lrc1 = lr / (1 - b1^t), c2 = 1 / (1 - b2^t).
  (func (export "adam")
    (param $pp i32) (param $pg i32) (param $pm i32) (param $pv i32) (param $n i32)
    (param $b1 f32) (param $b2 f32) (param $lrc1 f32) (param $c2 f32) (param $eps f32)
    (local $off i32) (local $vb1 v128) (local $vb2 v128) (local $v1b1 v128) (local $v1b2 v128)
    (local $vlr v128) (local $vc2 v128) (local $veps v128) (local $g v128) (local $m v128) (local $v v128)
    (local $q i32)
    (local.set $vb1 (f32x4.splat (local.get $b1)))
    (local.set $vb2 (f32x4.splat (local.get $b2)))
    (local.set $v1b1 (f32x4.splat (f32.sub (f32.const 1) (local.get $b1))))
    (local.set $v1b2 (f32x4.splat (f32.sub (f32.const 1) (local.get $b2))))
    (local.set $vlr (f32x4.splat (local.get $lrc1)))
    (local.set $vc2 (f32x4.splat (local.get $c2)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $n (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $off) (local.get $n)))
        (local.set $g (v128.load (i32.add (local.get $pg) (local.get $off))))
        (local.set $q (i32.add (local.get $pm) (local.get $off)))
        (local.set $m
          (f32x4.add (f32x4.mul (local.get $vb1) (v128.load (local.get $q)))
            (f32x4.mul (local.get $v1b1) (local.get $g))))
        (v128.store (local.get $q) (local.get $m))
        (local.set $q (i32.add (local.get $pv) (local.get $off)))
        (local.set $v
          (f32x4.add (f32x4.mul (local.get $vb2) (v128.load (local.get $q)))
            (f32x4.mul (local.get $v1b2) (f32x4.mul (local.get $g) (local.get $g)))))
        (v128.store (local.get $q) (local.get $v))
        (local.set $q (i32.add (local.get $pp) (local.get $off)))
        (v128.store (local.get $q)
          (f32x4.sub (v128.load (local.get $q))
            (f32x4.div (f32x4.mul (local.get $vlr) (local.get $m))
              (f32x4.add (f32x4.sqrt (f32x4.mul (local.get $vc2) (local.get $v))) (local.get $veps)))))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $loop))))
)
