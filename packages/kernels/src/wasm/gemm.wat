;; Cache-blocked f32x4 SIMD matrix product for @gcvi/kernels' dense, convolution and generator
;; kernels. Hand-written; compiled to src/wasm/gemm_wasm.ts by scripts/build-wasm.mjs (wabt).
;; Pointers are byte offsets into this module's own memory.
;;
;; gemm(pa, pb, pc, m, n, k, acc): C[m, n] (+)= A[m, k] · B[k, n] with
;;   A row-major, m a multiple of 4;
;;   B packed in column panels of 8: panel p (p = 0 .. n/8 − 1) holds B[kk, 8p .. 8p + 7] for
;;     kk = 0 .. k − 1, contiguous (k · 8 floats), n a multiple of 8;
;;   C row-major with n columns; acc = 1 adds to C, 0 overwrites it.
;; Register block 4 × 8 (8 accumulators, 2 panel vectors, 1 broadcast: fits the 16 SIMD registers
;; of x64 without spills). A panel of B (k · 32 bytes) stays in cache while all row blocks of A
;; stream past it.

(module
  (memory (export "memory") 1)

  (func (export "gemm")
    (param $pa i32) (param $pb i32) (param $pc i32)
    (param $m i32) (param $n i32) (param $k i32) (param $acc i32)
    (local $p i32) (local $np i32) (local $bp i32) (local $i i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $ka i32) (local $kb i32) (local $kend i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $s v128)
    (local $rowc i32) (local $cp i32) (local $rowa i32)
    (local.set $np (i32.shr_u (local.get $n) (i32.const 3)))
    (local.set $rowa (i32.shl (local.get $k) (i32.const 2)))   ;; bytes per row of A
    (local.set $rowc (i32.shl (local.get $n) (i32.const 2)))   ;; bytes per row of C
    (local.set $kend (local.get $rowa))
    (local.set $p (i32.const 0))
    (block $pdone
      (loop $ploop
        (br_if $pdone (i32.ge_u (local.get $p) (local.get $np)))
        (local.set $bp (i32.add (local.get $pb) (i32.mul (local.get $p) (i32.shl (local.get $k) (i32.const 5)))))
        (local.set $i (i32.const 0))
        (block $idone
          (loop $iloop
            (br_if $idone (i32.ge_u (local.get $i) (local.get $m)))
            (local.set $a0 (i32.add (local.get $pa) (i32.mul (local.get $i) (local.get $rowa))))
            (local.set $a1 (i32.add (local.get $a0) (local.get $rowa)))
            (local.set $a2 (i32.add (local.get $a1) (local.get $rowa)))
            (local.set $a3 (i32.add (local.get $a2) (local.get $rowa)))
            (local.set $c00 (v128.const f32x4 0 0 0 0))
            (local.set $c01 (local.get $c00)) (local.set $c10 (local.get $c00)) (local.set $c11 (local.get $c00))
            (local.set $c20 (local.get $c00)) (local.set $c21 (local.get $c00)) (local.set $c30 (local.get $c00))
            (local.set $c31 (local.get $c00))
            (local.set $ka (i32.const 0))
            (local.set $kb (local.get $bp))
            (block $kdone
              (loop $kloop
                (br_if $kdone (i32.ge_u (local.get $ka) (local.get $kend)))
                (local.set $b0 (v128.load (local.get $kb)))
                (local.set $b1 (v128.load offset=16 (local.get $kb)))
                (local.set $s (f32x4.splat (f32.load (i32.add (local.get $a0) (local.get $ka)))))
                (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $s (f32x4.splat (f32.load (i32.add (local.get $a1) (local.get $ka)))))
                (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $s (f32x4.splat (f32.load (i32.add (local.get $a2) (local.get $ka)))))
                (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $s (f32x4.splat (f32.load (i32.add (local.get $a3) (local.get $ka)))))
                (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $ka (i32.add (local.get $ka) (i32.const 4)))
                (local.set $kb (i32.add (local.get $kb) (i32.const 32)))
                (br $kloop)))
            ;; C rows i .. i+3, columns 8p .. 8p+7
            (local.set $cp (i32.add (local.get $pc)
              (i32.add (i32.mul (local.get $i) (local.get $rowc)) (i32.shl (local.get $p) (i32.const 5)))))
            (if (local.get $acc)
              (then
                (local.set $c00 (f32x4.add (local.get $c00) (v128.load (local.get $cp))))
                (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $cp))))))
            (v128.store (local.get $cp) (local.get $c00))
            (v128.store offset=16 (local.get $cp) (local.get $c01))
            (local.set $cp (i32.add (local.get $cp) (local.get $rowc)))
            (if (local.get $acc)
              (then
                (local.set $c10 (f32x4.add (local.get $c10) (v128.load (local.get $cp))))
                (local.set $c11 (f32x4.add (local.get $c11) (v128.load offset=16 (local.get $cp))))))
            (v128.store (local.get $cp) (local.get $c10))
            (v128.store offset=16 (local.get $cp) (local.get $c11))
            (local.set $cp (i32.add (local.get $cp) (local.get $rowc)))
            (if (local.get $acc)
              (then
                (local.set $c20 (f32x4.add (local.get $c20) (v128.load (local.get $cp))))
                (local.set $c21 (f32x4.add (local.get $c21) (v128.load offset=16 (local.get $cp))))))
            (v128.store (local.get $cp) (local.get $c20))
            (v128.store offset=16 (local.get $cp) (local.get $c21))
            (local.set $cp (i32.add (local.get $cp) (local.get $rowc)))
            (if (local.get $acc)
              (then
                (local.set $c30 (f32x4.add (local.get $c30) (v128.load (local.get $cp))))
                (local.set $c31 (f32x4.add (local.get $c31) (v128.load offset=16 (local.get $cp))))))
            (v128.store (local.get $cp) (local.get $c30))
            (v128.store offset=16 (local.get $cp) (local.get $c31))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $iloop)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $ploop))))

;; gemm_nn(pa, pb, pc, m, n, k, acc, ldb): as gemm but B unpacked, row-major with a row stride of
;;   ldb floats (n a multiple of 8): no packing pass (an 8-column panel row is 32 contiguous bytes;
;;   the prefetcher follows the constant stride).
;; gemm_tn(pa, pb, pc, m, n, k, acc, ldb, lda): as gemm_nn with A stored transposed, [k, m] with a row
;;   stride of lda floats: op(A)(i, kk) = A[kk lda + i] (m a multiple of 4); the 4 values of a row
;;   block are one vector load, broadcast lane by lane (the weight gradient xᵀ·g without a transpose).
  (func (export "gemm_nn")
    (param $pa i32) (param $pb i32) (param $pc i32)
    (param $m i32) (param $n i32) (param $k i32) (param $acc i32) (param $ldb i32)
    (local $p i32) (local $np i32) (local $bp i32) (local $i i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $ka i32) (local $kb i32) (local $kend i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $s v128)
    (local $rowc i32) (local $cp i32) (local $rowa i32) (local $ldbb i32)
    (local.set $np (i32.shr_u (local.get $n) (i32.const 3)))
    (local.set $ldbb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $rowa (i32.shl (local.get $k) (i32.const 2)))   ;; bytes per row of A
    (local.set $rowc (i32.shl (local.get $n) (i32.const 2)))   ;; bytes per row of C
    (local.set $kend (local.get $rowa))
    (local.set $p (i32.const 0))
    (block $pdone
      (loop $ploop
        (br_if $pdone (i32.ge_u (local.get $p) (local.get $np)))
        (local.set $bp (i32.add (local.get $pb) (i32.shl (local.get $p) (i32.const 5))))
        (local.set $i (i32.const 0))
        (block $idone
          (loop $iloop
            (br_if $idone (i32.ge_u (local.get $i) (local.get $m)))
            (local.set $a0 (i32.add (local.get $pa) (i32.mul (local.get $i) (local.get $rowa))))
            (local.set $a1 (i32.add (local.get $a0) (local.get $rowa)))
            (local.set $a2 (i32.add (local.get $a1) (local.get $rowa)))
            (local.set $a3 (i32.add (local.get $a2) (local.get $rowa)))
            (local.set $c00 (v128.const f32x4 0 0 0 0))
            (local.set $c01 (local.get $c00)) (local.set $c10 (local.get $c00)) (local.set $c11 (local.get $c00))
            (local.set $c20 (local.get $c00)) (local.set $c21 (local.get $c00)) (local.set $c30 (local.get $c00))
            (local.set $c31 (local.get $c00))
            (local.set $ka (i32.const 0))
            (local.set $kb (local.get $bp))
            (block $kdone
              (loop $kloop
                (br_if $kdone (i32.ge_u (local.get $ka) (local.get $kend)))
                (local.set $b0 (v128.load (local.get $kb)))
                (local.set $b1 (v128.load offset=16 (local.get $kb)))
                (local.set $s (f32x4.splat (f32.load (i32.add (local.get $a0) (local.get $ka)))))
                (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $s (f32x4.splat (f32.load (i32.add (local.get $a1) (local.get $ka)))))
                (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $s (f32x4.splat (f32.load (i32.add (local.get $a2) (local.get $ka)))))
                (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $s (f32x4.splat (f32.load (i32.add (local.get $a3) (local.get $ka)))))
                (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $ka (i32.add (local.get $ka) (i32.const 4)))
                (local.set $kb (i32.add (local.get $kb) (local.get $ldbb)))
                (br $kloop)))
            ;; C rows i .. i+3, columns 8p .. 8p+7
            (local.set $cp (i32.add (local.get $pc)
              (i32.add (i32.mul (local.get $i) (local.get $rowc)) (i32.shl (local.get $p) (i32.const 5)))))
            (if (local.get $acc)
              (then
                (local.set $c00 (f32x4.add (local.get $c00) (v128.load (local.get $cp))))
                (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $cp))))))
            (v128.store (local.get $cp) (local.get $c00))
            (v128.store offset=16 (local.get $cp) (local.get $c01))
            (local.set $cp (i32.add (local.get $cp) (local.get $rowc)))
            (if (local.get $acc)
              (then
                (local.set $c10 (f32x4.add (local.get $c10) (v128.load (local.get $cp))))
                (local.set $c11 (f32x4.add (local.get $c11) (v128.load offset=16 (local.get $cp))))))
            (v128.store (local.get $cp) (local.get $c10))
            (v128.store offset=16 (local.get $cp) (local.get $c11))
            (local.set $cp (i32.add (local.get $cp) (local.get $rowc)))
            (if (local.get $acc)
              (then
                (local.set $c20 (f32x4.add (local.get $c20) (v128.load (local.get $cp))))
                (local.set $c21 (f32x4.add (local.get $c21) (v128.load offset=16 (local.get $cp))))))
            (v128.store (local.get $cp) (local.get $c20))
            (v128.store offset=16 (local.get $cp) (local.get $c21))
            (local.set $cp (i32.add (local.get $cp) (local.get $rowc)))
            (if (local.get $acc)
              (then
                (local.set $c30 (f32x4.add (local.get $c30) (v128.load (local.get $cp))))
                (local.set $c31 (f32x4.add (local.get $c31) (v128.load offset=16 (local.get $cp))))))
            (v128.store (local.get $cp) (local.get $c30))
            (v128.store offset=16 (local.get $cp) (local.get $c31))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $iloop)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $ploop))))
  (func (export "gemm_tn")
    (param $pa i32) (param $pb i32) (param $pc i32)
    (param $m i32) (param $n i32) (param $k i32) (param $acc i32) (param $ldb i32) (param $lda i32)
    (local $p i32) (local $np i32) (local $bp i32) (local $i i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $ka i32) (local $kb i32) (local $kend i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $s v128)
    (local $rowc i32) (local $cp i32) (local $rowa i32) (local $ldbb i32) (local $av v128) (local $ldab i32) (local $kk i32)
    (local.set $np (i32.shr_u (local.get $n) (i32.const 3)))
    (local.set $ldbb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $rowa (i32.shl (local.get $k) (i32.const 2)))
    (local.set $ldab (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $rowc (i32.shl (local.get $n) (i32.const 2)))   ;; bytes per row of C
    (local.set $kend (local.get $rowa))
    (local.set $p (i32.const 0))
    (block $pdone
      (loop $ploop
        (br_if $pdone (i32.ge_u (local.get $p) (local.get $np)))
        (local.set $bp (i32.add (local.get $pb) (i32.shl (local.get $p) (i32.const 5))))
        (local.set $i (i32.const 0))
        (block $idone
          (loop $iloop
            (br_if $idone (i32.ge_u (local.get $i) (local.get $m)))
            (local.set $a0 (i32.add (local.get $pa) (i32.shl (local.get $i) (i32.const 2))))
            (local.set $c00 (v128.const f32x4 0 0 0 0))
            (local.set $c01 (local.get $c00)) (local.set $c10 (local.get $c00)) (local.set $c11 (local.get $c00))
            (local.set $c20 (local.get $c00)) (local.set $c21 (local.get $c00)) (local.set $c30 (local.get $c00))
            (local.set $c31 (local.get $c00))
            (local.set $ka (i32.const 0))
            (local.set $kb (local.get $bp))
            (block $kdone
              (loop $kloop
                (br_if $kdone (i32.ge_u (local.get $ka) (local.get $kend)))
                (local.set $b0 (v128.load (local.get $kb)))
                (local.set $b1 (v128.load offset=16 (local.get $kb)))
                (local.set $av (v128.load (local.get $a0)))
                (local.set $s (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $av) (local.get $av)))
                (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $s (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $av) (local.get $av)))
                (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $s (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $av) (local.get $av)))
                (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $s (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $av) (local.get $av)))
                (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $ka (i32.add (local.get $ka) (i32.const 4)))
                (local.set $a0 (i32.add (local.get $a0) (local.get $ldab)))
                (local.set $kb (i32.add (local.get $kb) (local.get $ldbb)))
                (br $kloop)))
            ;; C rows i .. i+3, columns 8p .. 8p+7
            (local.set $cp (i32.add (local.get $pc)
              (i32.add (i32.mul (local.get $i) (local.get $rowc)) (i32.shl (local.get $p) (i32.const 5)))))
            (if (local.get $acc)
              (then
                (local.set $c00 (f32x4.add (local.get $c00) (v128.load (local.get $cp))))
                (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $cp))))))
            (v128.store (local.get $cp) (local.get $c00))
            (v128.store offset=16 (local.get $cp) (local.get $c01))
            (local.set $cp (i32.add (local.get $cp) (local.get $rowc)))
            (if (local.get $acc)
              (then
                (local.set $c10 (f32x4.add (local.get $c10) (v128.load (local.get $cp))))
                (local.set $c11 (f32x4.add (local.get $c11) (v128.load offset=16 (local.get $cp))))))
            (v128.store (local.get $cp) (local.get $c10))
            (v128.store offset=16 (local.get $cp) (local.get $c11))
            (local.set $cp (i32.add (local.get $cp) (local.get $rowc)))
            (if (local.get $acc)
              (then
                (local.set $c20 (f32x4.add (local.get $c20) (v128.load (local.get $cp))))
                (local.set $c21 (f32x4.add (local.get $c21) (v128.load offset=16 (local.get $cp))))))
            (v128.store (local.get $cp) (local.get $c20))
            (v128.store offset=16 (local.get $cp) (local.get $c21))
            (local.set $cp (i32.add (local.get $cp) (local.get $rowc)))
            (if (local.get $acc)
              (then
                (local.set $c30 (f32x4.add (local.get $c30) (v128.load (local.get $cp))))
                (local.set $c31 (f32x4.add (local.get $c31) (v128.load offset=16 (local.get $cp))))))
            (v128.store (local.get $cp) (local.get $c30))
            (v128.store offset=16 (local.get $cp) (local.get $c31))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $iloop)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $ploop))))
)
