using Rift.Nn;

namespace Rift.Nn.Tests;

public class GemmTests
{
    public static TheoryData<GemmKernel> Kernels()
    {
        var d = new TheoryData<GemmKernel>();
        foreach (var k in new[] { GemmKernel.Scalar, GemmKernel.Avx2, GemmKernel.Avx512 })
            if (Gemm.IsSupported(k)) d.Add(k);
        return d;
    }

    private static double[] Reference(bool ta, bool tb, int m, int n, int k, float[] a, int lda, float[] b, int ldb)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (double)(ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
                c[i * n + j] = s;
            }
        return c;
    }

    private static readonly int[] Sizes = [1, 7, 33, 257];

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Multiply_AwkwardShapesAllTransposes_MatchesFloat64Reference(GemmKernel kernel)
    {
        var rng = new Rng(11);
        foreach (int m in Sizes)
            foreach (int n in Sizes)
                foreach (int k in new[] { 1, 7, 33, 300 })
                    for (int t = 0; t < 4; t++)
                    {
                        if (m * n * k > 257 * 257 * 33 && t % 2 == 1) continue;
                        bool ta = (t & 1) != 0, tb = (t & 2) != 0;
                        int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1;
                        var a = new float[(ta ? k : m) * lda];
                        var b = new float[(tb ? n : k) * ldb];
                        rng.FillUniform(a, -1, 1);
                        rng.FillUniform(b, -1, 1);
                        var c = new float[m * n];
                        Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, n, kernel: kernel, threads: 1);
                        var r = Reference(ta, tb, m, n, k, a, lda, b, ldb);
                        for (int i = 0; i < c.Length; i++)
                            Assert.True(Math.Abs(c[i] - r[i]) <= 1e-5 * k + 1e-5 * Math.Abs(r[i]),
                                $"{kernel} ta={ta} tb={tb} m={m} n={n} k={k} [{i}]: {c[i]} vs {r[i]}");
                    }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Multiply_Accumulate_AddsToExisting(GemmKernel kernel)
    {
        var rng = new Rng(2);
        int m = 33, n = 40, k = 9;
        var a = new float[m * k];
        var b = new float[k * n];
        rng.FillUniform(a, -1, 1);
        rng.FillUniform(b, -1, 1);
        var c = Enumerable.Repeat(1f, m * n).ToArray();
        Gemm.Multiply(false, false, m, n, k, a, k, b, n, c, n, accumulate: true, kernel: kernel);
        var r = Reference(false, false, m, n, k, a, k, b, n);
        for (int i = 0; i < c.Length; i++) Assert.True(Math.Abs(r[i] + 1 - c[i]) < 1e-4, $"{i}: {c[i]} vs {r[i] + 1}");
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Multiply_TwoThreads_EqualsOneThread(GemmKernel kernel)
    {
        var rng = new Rng(3);
        foreach (var (m, n, k) in new[] { (256, 400, 32), (300, 256, 400), (257, 33, 300), (40, 513, 129) })
            for (int t = 0; t < 4; t++)
            {
                bool ta = (t & 1) != 0, tb = (t & 2) != 0;
                var a = new float[m * k];
                var b = new float[k * n];
                rng.FillUniform(a, -1, 1);
                rng.FillUniform(b, -1, 1);
                var c1 = new float[m * n];
                var c2 = new float[m * n];
                Gemm.Multiply(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, c1, n, kernel: kernel, threads: 1);
                Gemm.Multiply(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, c2, n, kernel: kernel, threads: 2);
                Assert.Equal(c1, c2);
            }
    }

    [Fact]
    public void Multiply_KernelsAgree_OnBackwardShapes()
    {
        // The three products of a Linear layer's forward and backward (NT, NN, TN) for a SAC critic layer.
        var rng = new Rng(5);
        int batch = 257, inF = 33, outF = 7;
        var x = new float[batch * inF];
        var w = new float[outF * inF];
        var dy = new float[batch * outF];
        rng.FillUniform(x, -1, 1);
        rng.FillUniform(w, -1, 1);
        rng.FillUniform(dy, -1, 1);
        var results = new List<float[]>();
        foreach (var kernel in new[] { GemmKernel.Scalar, GemmKernel.Avx2, GemmKernel.Avx512 }.Where(Gemm.IsSupported))
        {
            var y = new float[batch * outF];
            var dx = new float[batch * inF];
            var dw = new float[outF * inF];
            Gemm.Multiply(false, true, batch, outF, inF, x, inF, w, inF, y, outF, kernel: kernel);
            Gemm.Multiply(false, false, batch, inF, outF, dy, outF, w, inF, dx, inF, kernel: kernel);
            Gemm.Multiply(true, false, outF, inF, batch, dy, outF, x, inF, dw, inF, kernel: kernel);
            results.Add([.. y, .. dx, .. dw]);
        }
        for (int r = 1; r < results.Count; r++)
            for (int i = 0; i < results[0].Length; i++) Assert.Equal(results[0][i], results[r][i], 3);
    }

    [Fact]
    public void Multiply_ShortSpan_ThrowsNamingOperand()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 4, 4, 4, new float[15], 4, new float[16], 4, new float[16], 4));
        Assert.Contains("operand A", ex.Message);
    }

    [Fact]
    public void Kernel_Forced_IsUsedAndRestorable()
    {
        var best = Gemm.Best;
        Assert.True(Gemm.IsSupported(best));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Threads = 3);
    }
}
