using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Rift.Nn;

/// <summary>Matmul micro-kernel family.</summary>
public enum GemmKernel
{
    /// <summary>Use <see cref="Gemm.Kernel"/> (best available unless forced).</summary>
    Auto = 0,
    /// <summary>Portable scalar loops.</summary>
    Scalar = 1,
    /// <summary>AVX2 + FMA, 6×16 register tile.</summary>
    Avx2 = 2,
    /// <summary>AVX-512F, 8×32 register tile.</summary>
    Avx512 = 3,
}

/// <summary>
/// Single-precision matrix multiply C (+)= op(A)·op(B), row-major, with packed panels and a register-tiled
/// micro-kernel chosen at run time (AVX-512, AVX2/FMA, scalar). op(X) is X or Xᵀ. Optionally splits the
/// work over a second thread (<see cref="Threads"/>).
/// </summary>
public static unsafe class Gemm
{
    /// <summary>Best kernel this CPU supports.</summary>
    public static GemmKernel Best { get; } =
        Avx512F.IsSupported ? GemmKernel.Avx512 :
        Avx2.IsSupported && Fma.IsSupported ? GemmKernel.Avx2 : GemmKernel.Scalar;

    private static GemmKernel _kernel = Best;

    /// <summary>Kernel used when a call passes <see cref="GemmKernel.Auto"/>; set to force a slower path.</summary>
    public static GemmKernel Kernel
    {
        get => _kernel;
        set
        {
            if (value == GemmKernel.Auto) value = Best;
            if (!IsSupported(value)) throw new NotSupportedException($"matmul kernel {value} is not supported on this CPU (best: {Best})");
            _kernel = value;
        }
    }

    /// <summary>Threads used by large products (1 or 2). Default 1.</summary>
    public static int Threads
    {
        get => _threads;
        set
        {
            if (value < 1 || value > 2) throw new ArgumentOutOfRangeException(nameof(value), value, "Gemm.Threads must be 1 or 2");
            _threads = value;
        }
    }

    private static int _threads = 1;

    public static bool IsSupported(GemmKernel k) => k switch
    {
        GemmKernel.Auto or GemmKernel.Scalar => true,
        GemmKernel.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        GemmKernel.Avx512 => Avx512F.IsSupported,
        _ => false,
    };

    private const int KC = 256;
    private const int NC = 2048;
    private const long ParallelMinWork = 1L << 18;

    [ThreadStatic] private static float[]? _packA;
    [ThreadStatic] private static float[]? _packB;
    [ThreadStatic] private static float[]? _gather;

    /// <summary>
    /// C[m×n] = op(A)[m×k]·op(B)[k×n] (or += when <paramref name="accumulate"/>). A is m×k (lda ≥ k) or, when
    /// <paramref name="transA"/>, stored k×m (lda ≥ m); likewise B is k×n or stored n×k when <paramref name="transB"/>.
    /// </summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        bool accumulate = false, GemmKernel kernel = GemmKernel.Auto, int threads = 0)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"matmul sizes must be non-negative: m={m} n={n} k={k}");
        if (kernel == GemmKernel.Auto) kernel = _kernel;
        if (!IsSupported(kernel)) throw new NotSupportedException($"matmul kernel {kernel} is not supported on this CPU");
        if (threads <= 0) threads = _threads;
        if (m == 0 || n == 0) return;
        CheckOperand("A", transA ? k : m, transA ? m : k, a.Length, lda);
        CheckOperand("B", transB ? n : k, transB ? k : n, b.Length, ldb);
        CheckOperand("C", m, n, c.Length, ldc);
        fixed (float* pa = a, pb = b, pc = c)
        {
            if (!accumulate)
                for (int i = 0; i < m; i++) new Span<float>(pc + (long)i * ldc, n).Clear();
            if (k == 0) return;
            Run(kernel, threads, transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc);
        }
    }

    private static void CheckOperand(string what, int rows, int cols, int length, int ld)
    {
        if (rows == 0 || cols == 0) return;
        if (ld < cols) throw new ArgumentException($"matmul operand {what}: leading dimension {ld} is smaller than its row length {cols}");
        long need = (long)(rows - 1) * ld + cols;
        if (length < need) throw new ArgumentException($"matmul operand {what}: {rows}×{cols} (ld {ld}) needs {need} elements, span has {length}");
    }

    private static void Run(GemmKernel kernel, int threads, bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        if (n == 1 || m == 1)
        {
            Gemv(kernel, transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
            return;
        }
        var (mr, nr) = Tile(kernel);
        if (threads > 1 && (long)m * n * k >= ParallelMinWork)
        {
            if (n >= 2 * nr && n >= m / 2)
            {
                int n0 = (n / 2 + nr - 1) / nr * nr;
                float* bs = transB ? b + (long)n0 * ldb : b + n0;
                Worker.Run2(
                    () => Packed(kernel, transA, transB, m, n0, k, a, lda, b, ldb, c, ldc),
                    () => Packed(kernel, transA, transB, m, n - n0, k, a, lda, bs, ldb, c + n0, ldc));
                return;
            }
            if (m >= 2 * mr)
            {
                int m0 = (m / 2 + mr - 1) / mr * mr;
                float* as2 = transA ? a + m0 : a + (long)m0 * lda;
                Worker.Run2(
                    () => Packed(kernel, transA, transB, m0, n, k, a, lda, b, ldb, c, ldc),
                    () => Packed(kernel, transA, transB, m - m0, n, k, as2, lda, b, ldb, c + (long)m0 * ldc, ldc));
                return;
            }
        }
        Packed(kernel, transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
    }

    private static (int mr, int nr) Tile(GemmKernel k) => k switch
    {
        GemmKernel.Avx512 => (8, 32),
        GemmKernel.Avx2 => (6, 16),
        _ => (4, 8),
    };

    private static float* Pinned(ref float[]? buf, int size)
    {
        if (buf is null || buf.Length < size + 16) buf = GC.AllocateUninitializedArray<float>(size + 16, pinned: true);
        float* p = (float*)Unsafe.AsPointer(ref buf[0]);
        // Align to 64 bytes for full-width loads.
        long mis = ((long)p & 63) / 4;
        return mis == 0 ? p : p + (16 - mis);
    }

    private static void Packed(GemmKernel kernel, bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        var (mr, nr) = Tile(kernel);
        int mcMax = mr * 16;
        float* packA = Pinned(ref _packA, mcMax * KC);
        float* packB = Pinned(ref _packB, KC * (NC + 32));
        float* tile = stackalloc float[8 * 32];
        for (int jc = 0; jc < n; jc += NC)
        {
            int nc = Math.Min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC)
            {
                int kc = Math.Min(KC, k - pc);
                PackB(transB, b, ldb, pc, jc, kc, nc, nr, packB);
                for (int ic = 0; ic < m; ic += mcMax)
                {
                    int mc = Math.Min(mcMax, m - ic);
                    PackA(transA, a, lda, ic, pc, mc, kc, mr, packA);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int nrr = Math.Min(nr, nc - jr);
                        float* pb = packB + (long)jr * kc;
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int mrr = Math.Min(mr, mc - ir);
                            float* pa = packA + (long)ir * kc;
                            float* cp = c + (long)(ic + ir) * ldc + jc + jr;
                            if (mrr == mr && nrr == nr)
                            {
                                Micro(kernel, kc, pa, pb, cp, ldc);
                            }
                            else
                            {
                                new Span<float>(tile, mr * nr).Clear();
                                Micro(kernel, kc, pa, pb, tile, nr);
                                for (int r = 0; r < mrr; r++)
                                {
                                    float* crow = cp + (long)r * ldc;
                                    float* trow = tile + r * nr;
                                    for (int j = 0; j < nrr; j++) crow[j] += trow[j];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Micro(GemmKernel kernel, int kc, float* pa, float* pb, float* c, int ldc)
    {
        switch (kernel)
        {
            case GemmKernel.Avx512: Kernel8x32(kc, pa, pb, c, ldc); break;
            case GemmKernel.Avx2: Kernel6x16(kc, pa, pb, c, ldc); break;
            default: KernelScalar4x8(kc, pa, pb, c, ldc); break;
        }
    }

    // Packed A: panels of mr rows; within a panel, element (r, p) at p*mr + r; rows past m are zero.
    private static void PackA(bool transA, float* a, int lda, int i0, int p0, int mc, int kc, int mr, float* dst)
    {
        float** rowPtr = stackalloc float*[8];
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            float* d = dst + (long)ir * kc;
            if (transA)
            {
                // A(i, p) = a[p*lda + i]: each k-step is a contiguous run of rows.
                for (int p = 0; p < kc; p++)
                {
                    float* src = a + (long)(p0 + p) * lda + i0 + ir;
                    float* dd = d + p * mr;
                    if (rows == 8 && mr == 8) Vector256.Store(Vector256.Load(src), dd);
                    else if (rows == 4 && mr == 4) Vector128.Store(Vector128.Load(src), dd);
                    else
                    {
                        int r = 0;
                        for (; r < rows; r++) dd[r] = src[r];
                        for (; r < mr; r++) dd[r] = 0f;
                    }
                }
            }
            else
            {
                // k-outer so the writes stream; the mr source rows stay in cache.
                for (int r = 0; r < rows; r++) rowPtr[r] = a + (long)(i0 + ir + r) * lda + p0;
                if (rows == mr && mr == 8)
                {
                    float* r0 = rowPtr[0], r1 = rowPtr[1], r2 = rowPtr[2], r3 = rowPtr[3], r4 = rowPtr[4], r5 = rowPtr[5], r6 = rowPtr[6], r7 = rowPtr[7];
                    for (int p = 0; p < kc; p++)
                    {
                        float* dd = d + p * 8;
                        dd[0] = r0[p]; dd[1] = r1[p]; dd[2] = r2[p]; dd[3] = r3[p];
                        dd[4] = r4[p]; dd[5] = r5[p]; dd[6] = r6[p]; dd[7] = r7[p];
                    }
                }
                else if (rows == mr && mr == 6)
                {
                    float* r0 = rowPtr[0], r1 = rowPtr[1], r2 = rowPtr[2], r3 = rowPtr[3], r4 = rowPtr[4], r5 = rowPtr[5];
                    for (int p = 0; p < kc; p++)
                    {
                        float* dd = d + p * 6;
                        dd[0] = r0[p]; dd[1] = r1[p]; dd[2] = r2[p]; dd[3] = r3[p]; dd[4] = r4[p]; dd[5] = r5[p];
                    }
                }
                else
                {
                    for (int p = 0; p < kc; p++)
                    {
                        float* dd = d + p * mr;
                        int r = 0;
                        for (; r < rows; r++) dd[r] = rowPtr[r][p];
                        for (; r < mr; r++) dd[r] = 0f;
                    }
                }
            }
        }
    }

    // Packed B: panels of nr columns; within a panel, element (p, j) at p*nr + j; columns past n are zero.
    private static void PackB(bool transB, float* b, int ldb, int p0, int j0, int kc, int nc, int nr, float* dst)
    {
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            float* d = dst + (long)jr * kc;
            if (!transB)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = b + (long)(p0 + p) * ldb + j0 + jr;
                    float* dd = d + p * nr;
                    if (cols == 32 && nr == 32)
                    {
                        Vector512.Store(Vector512.Load(src), dd);
                        Vector512.Store(Vector512.Load(src + 16), dd + 16);
                    }
                    else if (cols == 16 && nr == 16)
                    {
                        Vector256.Store(Vector256.Load(src), dd);
                        Vector256.Store(Vector256.Load(src + 8), dd + 8);
                    }
                    else
                    {
                        int j = 0;
                        for (; j < cols; j++) dd[j] = src[j];
                        for (; j < nr; j++) dd[j] = 0f;
                    }
                }
            }
            else
            {
                // B(p, j) = b[j*ldb + p]: transpose 8×8 blocks (k-outer keeps writes streaming).
                float* src0 = b + (long)(j0 + jr) * ldb + p0;
                int jFull = cols & ~7;
                int p = 0;
                if (Avx.IsSupported && jFull > 0)
                {
                    for (; p + 8 <= kc; p += 8)
                        for (int j = 0; j < jFull; j += 8)
                            Transpose8x8(src0 + (long)j * ldb + p, ldb, d + p * nr + j, nr);
                }
                for (; p < kc; p++)
                    for (int j = 0; j < jFull; j++) d[p * nr + j] = src0[(long)j * ldb + p];
                for (p = 0; p < kc; p++)
                {
                    float* dd = d + p * nr;
                    for (int j = jFull; j < cols; j++) dd[j] = src0[(long)j * ldb + p];
                    for (int j = cols; j < nr; j++) dd[j] = 0f;
                }
            }
        }
    }

    // dst[c*ldd + r] = src[r*lds + c] for an 8×8 block.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, int lds, float* dst, int ldd)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + lds);
        var r2 = Avx.LoadVector256(src + 2L * lds);
        var r3 = Avx.LoadVector256(src + 3L * lds);
        var r4 = Avx.LoadVector256(src + 4L * lds);
        var r5 = Avx.LoadVector256(src + 5L * lds);
        var r6 = Avx.LoadVector256(src + 6L * lds);
        var r7 = Avx.LoadVector256(src + 7L * lds);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var s0 = Avx.Shuffle(t0, t2, 0x44);
        var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44);
        var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44);
        var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44);
        var s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(dst + 2L * ldd, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(dst + 3L * ldd, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(dst + 4L * ldd, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(dst + 5L * ldd, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(dst + 6L * ldd, Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(dst + 7L * ldd, Avx.Permute2x128(s3, s7, 0x31));
    }

    private static void Kernel8x32(int kc, float* pa, float* pb, float* c, int ldc)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(pb);
            var b1 = Vector512.Load(pb + 16);
            var a0 = Vector512.Create(pa[0]);
            c00 = Avx512F.FusedMultiplyAdd(a0, b0, c00);
            c01 = Avx512F.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(pa[1]);
            c10 = Avx512F.FusedMultiplyAdd(a1, b0, c10);
            c11 = Avx512F.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(pa[2]);
            c20 = Avx512F.FusedMultiplyAdd(a2, b0, c20);
            c21 = Avx512F.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(pa[3]);
            c30 = Avx512F.FusedMultiplyAdd(a3, b0, c30);
            c31 = Avx512F.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector512.Create(pa[4]);
            c40 = Avx512F.FusedMultiplyAdd(a4, b0, c40);
            c41 = Avx512F.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector512.Create(pa[5]);
            c50 = Avx512F.FusedMultiplyAdd(a5, b0, c50);
            c51 = Avx512F.FusedMultiplyAdd(a5, b1, c51);
            var a6 = Vector512.Create(pa[6]);
            c60 = Avx512F.FusedMultiplyAdd(a6, b0, c60);
            c61 = Avx512F.FusedMultiplyAdd(a6, b1, c61);
            var a7 = Vector512.Create(pa[7]);
            c70 = Avx512F.FusedMultiplyAdd(a7, b0, c70);
            c71 = Avx512F.FusedMultiplyAdd(a7, b1, c71);
            pa += 8;
            pb += 32;
        }
        Acc512(c, c00, c01);
        Acc512(c + ldc, c10, c11);
        Acc512(c + 2L * ldc, c20, c21);
        Acc512(c + 3L * ldc, c30, c31);
        Acc512(c + 4L * ldc, c40, c41);
        Acc512(c + 5L * ldc, c50, c51);
        Acc512(c + 6L * ldc, c60, c61);
        Acc512(c + 7L * ldc, c70, c71);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Acc512(float* row, Vector512<float> v0, Vector512<float> v1)
    {
        Vector512.Store(Vector512.Load(row) + v0, row);
        Vector512.Store(Vector512.Load(row + 16) + v1, row + 16);
    }

    private static void Kernel6x16(int kc, float* pa, float* pb, float* c, int ldc)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(pb);
            var b1 = Vector256.Load(pb + 8);
            var a0 = Vector256.Create(pa[0]);
            c00 = Fma.MultiplyAdd(a0, b0, c00);
            c01 = Fma.MultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(pa[1]);
            c10 = Fma.MultiplyAdd(a1, b0, c10);
            c11 = Fma.MultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(pa[2]);
            c20 = Fma.MultiplyAdd(a2, b0, c20);
            c21 = Fma.MultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(pa[3]);
            c30 = Fma.MultiplyAdd(a3, b0, c30);
            c31 = Fma.MultiplyAdd(a3, b1, c31);
            var a4 = Vector256.Create(pa[4]);
            c40 = Fma.MultiplyAdd(a4, b0, c40);
            c41 = Fma.MultiplyAdd(a4, b1, c41);
            var a5 = Vector256.Create(pa[5]);
            c50 = Fma.MultiplyAdd(a5, b0, c50);
            c51 = Fma.MultiplyAdd(a5, b1, c51);
            pa += 6;
            pb += 16;
        }
        Acc256(c, c00, c01);
        Acc256(c + ldc, c10, c11);
        Acc256(c + 2L * ldc, c20, c21);
        Acc256(c + 3L * ldc, c30, c31);
        Acc256(c + 4L * ldc, c40, c41);
        Acc256(c + 5L * ldc, c50, c51);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Acc256(float* row, Vector256<float> v0, Vector256<float> v1)
    {
        Vector256.Store(Vector256.Load(row) + v0, row);
        Vector256.Store(Vector256.Load(row + 8) + v1, row + 8);
    }

    private static void KernelScalar4x8(int kc, float* pa, float* pb, float* c, int ldc)
    {
        float* acc = stackalloc float[32];
        for (int i = 0; i < 32; i++) acc[i] = 0f;
        for (int p = 0; p < kc; p++)
        {
            for (int r = 0; r < 4; r++)
            {
                float av = pa[r];
                float* ar = acc + r * 8;
                for (int j = 0; j < 8; j++) ar[j] += av * pb[j];
            }
            pa += 4;
            pb += 8;
        }
        for (int r = 0; r < 4; r++)
            for (int j = 0; j < 8; j++) c[(long)r * ldc + j] += acc[r * 8 + j];
    }

    // Matrix-vector cases (one row or one column): no packing, contiguous dot products or axpys.
    private static void Gemv(GemmKernel kernel, bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        bool scalar = kernel == GemmKernel.Scalar;
        if (n == 1)
        {
            // c[i] += Σp A(i,p)·B(p,0); B column is contiguous when transB (b[p]) else strided by ldb.
            float* bcol = b;
            if (!transB && ldb != 1 && k > 1)
            {
                bcol = Pinned(ref _gather, k);
                for (int p = 0; p < k; p++) bcol[p] = b[(long)p * ldb];
            }
            if (!transA)
            {
                for (int i = 0; i < m; i++)
                    c[(long)i * ldc] += Dot(scalar, a + (long)i * lda, bcol, k);
            }
            else
            {
                // A(i,p) = a[p*lda + i]: accumulate rows of a scaled by b.
                if (ldc == 1)
                {
                    for (int p = 0; p < k; p++) Axpy(scalar, bcol[p], a + (long)p * lda, c, m);
                }
                else
                {
                    for (int i = 0; i < m; i++)
                    {
                        float s = 0f;
                        for (int p = 0; p < k; p++) s += a[(long)p * lda + i] * bcol[p];
                        c[(long)i * ldc] += s;
                    }
                }
            }
            return;
        }
        // m == 1: c[j] += Σp A(0,p)·B(p,j).
        float* arow = a;
        if (transA && lda != 1 && k > 1)
        {
            arow = Pinned(ref _gather, k);
            for (int p = 0; p < k; p++) arow[p] = a[(long)p * lda];
        }
        if (transB)
        {
            for (int j = 0; j < n; j++) c[j] += Dot(scalar, b + (long)j * ldb, arow, k);
        }
        else
        {
            for (int p = 0; p < k; p++) Axpy(scalar, arow[p], b + (long)p * ldb, c, n);
        }
    }

    private static float Dot(bool scalar, float* x, float* y, int len)
    {
        if (!scalar) return TensorPrimitives.Dot(new ReadOnlySpan<float>(x, len), new ReadOnlySpan<float>(y, len));
        float s = 0f;
        for (int i = 0; i < len; i++) s += x[i] * y[i];
        return s;
    }

    private static void Axpy(bool scalar, float alpha, float* x, float* y, int len)
    {
        if (!scalar)
        {
            var ys = new Span<float>(y, len);
            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(x, len), alpha, ys, ys);
            return;
        }
        for (int i = 0; i < len; i++) y[i] += alpha * x[i];
    }
}
