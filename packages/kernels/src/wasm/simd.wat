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

  ;; ---- Attention, one query row at a time, SIMD across keys. Matrices are stored transposed,
  ;; MT[c, j] at mt + 4 (c nkp + j), with nkp (keys, padded) a multiple of 4.

  ;; S[j] += sum_c coef[c] MT[c, j]   (scores q.k_j; dp_j = dO.v_j)
  (func (export "rows_axpy") (param $s i32) (param $coef i32) (param $mt i32) (param $d i32) (param $nkp i32)
    (local $c i32) (local $off i32) (local $row i32) (local $cv v128) (local $bytes i32) (local $p i32)
    (local.set $bytes (i32.shl (local.get $nkp) (i32.const 2)))
    (block $cdone
      (loop $cloop
        (br_if $cdone (i32.ge_u (local.get $c) (local.get $d)))
        (local.set $cv (f32x4.splat (f32.load (i32.add (local.get $coef) (i32.shl (local.get $c) (i32.const 2))))))
        (local.set $row (i32.add (local.get $mt) (i32.mul (local.get $c) (local.get $bytes))))
        (local.set $off (i32.const 0))
        (block $done
          (loop $loop
            (br_if $done (i32.ge_u (local.get $off) (local.get $bytes)))
            (local.set $p (i32.add (local.get $s) (local.get $off)))
            (v128.store (local.get $p)
              (f32x4.add (v128.load (local.get $p))
                (f32x4.mul (local.get $cv) (v128.load (i32.add (local.get $row) (local.get $off))))))
            (local.set $off (i32.add (local.get $off) (i32.const 16)))
            (br $loop)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cloop))))

  ;; out[c] = mul sum_j S[j] MT[c, j]   (attention output; dq)
  (func (export "rows_reduce") (param $s i32) (param $mt i32) (param $out i32) (param $d i32) (param $nkp i32) (param $mul f32)
    (local $c i32) (local $off i32) (local $row i32) (local $acc v128) (local $bytes i32)
    (local.set $bytes (i32.shl (local.get $nkp) (i32.const 2)))
    (block $cdone
      (loop $cloop
        (br_if $cdone (i32.ge_u (local.get $c) (local.get $d)))
        (local.set $row (i32.add (local.get $mt) (i32.mul (local.get $c) (local.get $bytes))))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $off (i32.const 0))
        (block $done
          (loop $loop
            (br_if $done (i32.ge_u (local.get $off) (local.get $bytes)))
            (local.set $acc
              (f32x4.add (local.get $acc)
                (f32x4.mul (v128.load (i32.add (local.get $s) (local.get $off)))
                  (v128.load (i32.add (local.get $row) (local.get $off))))))
            (local.set $off (i32.add (local.get $off) (i32.const 16)))
            (br $loop)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2)))
          (f32.mul (local.get $mul) (call $hsum (local.get $acc))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cloop))))

  ;; GT[c, j] += mul coef[c] S[j]   (dK, dV accumulated over query rows)
  (func (export "rows_outer") (param $gt i32) (param $coef i32) (param $s i32) (param $d i32) (param $nkp i32) (param $mul f32)
    (local $c i32) (local $off i32) (local $row i32) (local $cv v128) (local $bytes i32) (local $p i32)
    (local.set $bytes (i32.shl (local.get $nkp) (i32.const 2)))
    (block $cdone
      (loop $cloop
        (br_if $cdone (i32.ge_u (local.get $c) (local.get $d)))
        (local.set $cv (f32x4.splat (f32.mul (local.get $mul)
          (f32.load (i32.add (local.get $coef) (i32.shl (local.get $c) (i32.const 2)))))))
        (local.set $row (i32.add (local.get $gt) (i32.mul (local.get $c) (local.get $bytes))))
        (local.set $off (i32.const 0))
        (block $done
          (loop $loop
            (br_if $done (i32.ge_u (local.get $off) (local.get $bytes)))
            (local.set $p (i32.add (local.get $row) (local.get $off)))
            (v128.store (local.get $p)
              (f32x4.add (v128.load (local.get $p))
                (f32x4.mul (local.get $cv) (v128.load (i32.add (local.get $s) (local.get $off))))))
            (local.set $off (i32.add (local.get $off) (i32.const 16)))
            (br $loop)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cloop))))

  ;; exp(x) for x <= 0 (Cody-Waite range reduction, degree-6 Taylor on |r| <= ln2/2: relative
  ;; error < 2e-7); exactly 0 below -87.
  (func $exp4 (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128) (local $ok v128)
    (local.set $ok (f32x4.ge (local.get $x) (v128.const f32x4 -87 -87 -87 -87)))
    (local.set $x (f32x4.max (local.get $x) (v128.const f32x4 -87 -87 -87 -87)))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $x)
      (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504))))
    (local.set $r (f32x4.sub (local.get $x)
      (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
    (local.set $r (f32x4.sub (local.get $r)
      (f32x4.mul (local.get $n) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $p (v128.const f32x4 1.38888889e-3 1.38888889e-3 1.38888889e-3 1.38888889e-3))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
      (v128.const f32x4 8.33333333e-3 8.33333333e-3 8.33333333e-3 8.33333333e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
      (v128.const f32x4 4.16666667e-2 4.16666667e-2 4.16666667e-2 4.16666667e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
      (v128.const f32x4 0.166666667 0.166666667 0.166666667 0.166666667)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 0.5 0.5 0.5 0.5)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1 1 1 1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1 1 1 1)))
    ;; times 2^n: add n to the exponent bits.
    (v128.and (local.get $ok)
      (i32x4.add (local.get $p)
        (i32x4.shl (i32x4.trunc_sat_f32x4_s (local.get $n)) (i32.const 23)))))

  ;; S = softmax(S) in place over nkp entries; returns log sum_j exp(S_j).
  (func (export "softmax_row") (param $s i32) (param $nkp i32) (result f32)
    (local $off i32) (local $bytes i32) (local $vm v128) (local $m f32) (local $acc v128) (local $e v128)
    (local $p i32) (local $l f32) (local $inv v128)
    (local.set $bytes (i32.shl (local.get $nkp) (i32.const 2)))
    (local.set $vm (v128.load (local.get $s)))
    (local.set $off (i32.const 16))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $off) (local.get $bytes)))
        (local.set $vm (f32x4.max (local.get $vm) (v128.load (i32.add (local.get $s) (local.get $off)))))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $loop)))
    (local.set $m (f32.max
      (f32.max (f32x4.extract_lane 0 (local.get $vm)) (f32x4.extract_lane 1 (local.get $vm)))
      (f32.max (f32x4.extract_lane 2 (local.get $vm)) (f32x4.extract_lane 3 (local.get $vm)))))
    (local.set $vm (f32x4.splat (local.get $m)))
    (local.set $acc (v128.const f32x4 0 0 0 0))
    (local.set $off (i32.const 0))
    (block $done2
      (loop $loop2
        (br_if $done2 (i32.ge_u (local.get $off) (local.get $bytes)))
        (local.set $p (i32.add (local.get $s) (local.get $off)))
        (local.set $e (call $exp4 (f32x4.sub (v128.load (local.get $p)) (local.get $vm))))
        (v128.store (local.get $p) (local.get $e))
        (local.set $acc (f32x4.add (local.get $acc) (local.get $e)))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $loop2)))
    (local.set $l (call $hsum (local.get $acc)))
    (local.set $inv (f32x4.splat (f32.div (f32.const 1) (local.get $l))))
    (local.set $off (i32.const 0))
    (block $done3
      (loop $loop3
        (br_if $done3 (i32.ge_u (local.get $off) (local.get $bytes)))
        (local.set $p (i32.add (local.get $s) (local.get $off)))
        (v128.store (local.get $p) (f32x4.mul (v128.load (local.get $p)) (local.get $inv)))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $loop3)))
    (f32.add (local.get $m) (call $logf (local.get $l))))

  ;; log of a float in [1, nkp] (the softmax normalizer), via f64 bits: only used for the
  ;; returned log-sum-exp, which callers may ignore. Computed as ln(l) = ln2 * log2(l) with a
  ;; short series; accuracy ~1e-7 suffices there.
  (func $logf (param $x f32) (result f32)
    (local $bits i32) (local $e i32) (local $mf f32) (local $t f32) (local $t2 f32)
    (local.set $bits (i32.reinterpret_f32 (local.get $x)))
    (local.set $e (i32.sub (i32.shr_u (local.get $bits) (i32.const 23)) (i32.const 127)))
    (local.set $mf (f32.reinterpret_i32 (i32.or (i32.and (local.get $bits) (i32.const 0x007fffff)) (i32.const 0x3f800000))))
    ;; ln(mf), mf in [1, 2): t = (mf - 1)/(mf + 1), ln = 2 (t + t^3/3 + t^5/5 + t^7/7 + t^9/9)
    (local.set $t (f32.div (f32.sub (local.get $mf) (f32.const 1)) (f32.add (local.get $mf) (f32.const 1))))
    (local.set $t2 (f32.mul (local.get $t) (local.get $t)))
    (f32.add
      (f32.mul (f32.convert_i32_s (local.get $e)) (f32.const 0.693147181))
      (f32.mul (f32.mul (f32.const 2) (local.get $t))
        (f32.add (f32.const 1) (f32.mul (local.get $t2)
          (f32.add (f32.const 0.333333333) (f32.mul (local.get $t2)
            (f32.add (f32.const 0.2) (f32.mul (local.get $t2)
              (f32.add (f32.const 0.142857143) (f32.mul (local.get $t2) (f32.const 0.111111111))))))))))))

  ;; DP[j] = P[j] (DP[j] - di)   (softmax backward for one row)
  (func (export "ds_row") (param $pp i32) (param $dp i32) (param $di f32) (param $nkp i32)
    (local $off i32) (local $bytes i32) (local $vd v128) (local $q i32)
    (local.set $bytes (i32.shl (local.get $nkp) (i32.const 2)))
    (local.set $vd (f32x4.splat (local.get $di)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $off) (local.get $bytes)))
        (local.set $q (i32.add (local.get $dp) (local.get $off)))
        (v128.store (local.get $q)
          (f32x4.mul (v128.load (i32.add (local.get $pp) (local.get $off)))
            (f32x4.sub (v128.load (local.get $q)) (local.get $vd))))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $loop))))
)
