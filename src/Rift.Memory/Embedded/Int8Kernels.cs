using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Rift.Memory.Embedded;

/// <summary>
/// Symmetric per-vector int8 quantisation, x ≈ s·q with s = max|x|/127. Items are stored offset to unsigned
/// (q + 128) so the VNNI instruction vpdpbusd (u8 × s8 → i32) takes the signed query directly:
/// Σ (q_x + 128)·q_q = Σ q_x·q_q + 128·Σ q_q, and the correction depends on the query only.
/// </summary>
internal static class Int8Kernels
{
    /// <summary>Length of the rotated vector: the dimension rounded up to a power of two, at least 64 (whole 64-byte steps).</summary>
    public static int RotatedLength(int dim) => Math.Max(64, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)dim));

    /// <summary>Fixed random signs for the rotation (same for every collection and process, so codes stay valid on reopen).</summary>
    public static float[] RotationSigns(int length)
    {
        var r = new Random(0x5EED);
        var s = new float[length];
        for (var i = 0; i < length; i++) s[i] = r.Next(2) == 0 ? -1f : 1f;
        return s;
    }

    /// <summary>
    /// y = H·D·x / √P (random signs D, Walsh–Hadamard H, zero padded to P): an orthonormal rotation, so dot products
    /// and norms are unchanged, while every coordinate of y carries a similar share of the energy. That makes
    /// per-vector int8 scales tight and lets a prefix of the coordinates estimate the whole dot product.
    /// </summary>
    public static void Rotate(ReadOnlySpan<float> x, ReadOnlySpan<float> signs, Span<float> y)
    {
        var p = y.Length;
        for (var i = 0; i < x.Length; i++) y[i] = x[i] * signs[i];
        y[x.Length..].Clear();
        for (var h = 1; h < p; h *= 2)
        {
            for (var i = 0; i < p; i += 2 * h)
            {
                if (h >= 8)
                {
                    for (var j = i; j < i + h; j += 8)
                    {
                        var a = Vector256.Create<float>(y.Slice(j, 8));
                        var b = Vector256.Create<float>(y.Slice(j + h, 8));
                        (a + b).CopyTo(y.Slice(j, 8));
                        (a - b).CopyTo(y.Slice(j + h, 8));
                    }
                }
                else
                {
                    for (var j = i; j < i + h; j++)
                    {
                        var a = y[j];
                        var b = y[j + h];
                        y[j] = a + b;
                        y[j + h] = a - b;
                    }
                }
            }
        }
        var scale = 1f / MathF.Sqrt(p);
        for (var i = 0; i < p; i++) y[i] *= scale;
    }

    public readonly record struct Quantized(float Scale, float DequantizedNorm, float ResidualNorm, int Sum);

    /// <summary>Quantises <paramref name="x"/> into <paramref name="dst"/> (zero padded), offset by <paramref name="offset"/> (128 for items, 0 for queries).</summary>
    public static Quantized Quantize(ReadOnlySpan<float> x, Span<byte> dst, int offset)
    {
        var maxAbs = 0f;
        foreach (var v in x) maxAbs = MathF.Max(maxAbs, MathF.Abs(v));
        var scale = maxAbs / 127f;
        var inv = scale > 0 ? 1f / scale : 0f;
        double deq = 0, res = 0;
        var sum = 0;
        for (var i = 0; i < x.Length; i++)
        {
            var q = (int)MathF.Round(x[i] * inv);
            q = Math.Clamp(q, -127, 127);
            dst[i] = (byte)(q + offset);
            sum += q;
            double b = (double)scale * q;
            deq += b * b;
            var r = x[i] - b;
            res += r * r;
        }
        dst[x.Length..].Fill((byte)offset);
        // Norms rounded up a little so the error bound built from them stays a bound after float rounding.
        return new Quantized(scale, (float)(Math.Sqrt(deq) * (1 + 1e-6)), (float)(Math.Sqrt(res) * (1 + 1e-6)), sum);
    }

    /// <summary>Σ item[i]·query[i] with item bytes unsigned (q+128) and query bytes signed; length a multiple of 64.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int DotU8S8(ref byte item, ref byte query, int length)
    {
        if (AvxVnni.IsSupported)
        {
            var acc0 = Vector256<int>.Zero;
            var acc1 = Vector256<int>.Zero;
            for (nuint i = 0; i < (nuint)length; i += 64)
            {
                acc0 = AvxVnni.MultiplyWideningAndAdd(acc0, Vector256.LoadUnsafe(ref item, i), Vector256.LoadUnsafe(ref query, i).AsSByte());
                acc1 = AvxVnni.MultiplyWideningAndAdd(acc1, Vector256.LoadUnsafe(ref item, i + 32), Vector256.LoadUnsafe(ref query, i + 32).AsSByte());
            }
            return Vector256.Sum(acc0 + acc1);
        }
        if (Avx2.IsSupported)
        {
            var acc = Vector256<int>.Zero;
            for (nuint i = 0; i < (nuint)length; i += 16)
            {
                var a = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref item, i));
                var b = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref query, i).AsSByte());
                acc += Avx2.MultiplyAddAdjacent(a, b);
            }
            return Vector256.Sum(acc);
        }
        var s = 0;
        for (var i = 0; i < length; i++) s += Unsafe.Add(ref item, i) * (sbyte)Unsafe.Add(ref query, i);
        return s;
    }

    /// <summary>
    /// Four rows against one query at once: eight independent accumulator chains hide the latency of vpdpbusd, which
    /// otherwise bounds a one-row loop (a 1024-byte row is 32 dependent steps).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void DotU8S8x4(ref byte r0, ref byte r1, ref byte r2, ref byte r3, ref byte query, int length, Span<int> result)
    {
        if (!AvxVnni.IsSupported)
        {
            result[0] = DotU8S8(ref r0, ref query, length);
            result[1] = DotU8S8(ref r1, ref query, length);
            result[2] = DotU8S8(ref r2, ref query, length);
            result[3] = DotU8S8(ref r3, ref query, length);
            return;
        }
        Vector256<int> a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default, d0 = default, d1 = default;
        for (nuint i = 0; i < (nuint)length; i += 64)
        {
            var q0 = Vector256.LoadUnsafe(ref query, i).AsSByte();
            var q1 = Vector256.LoadUnsafe(ref query, i + 32).AsSByte();
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, Vector256.LoadUnsafe(ref r0, i), q0);
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, Vector256.LoadUnsafe(ref r0, i + 32), q1);
            b0 = AvxVnni.MultiplyWideningAndAdd(b0, Vector256.LoadUnsafe(ref r1, i), q0);
            b1 = AvxVnni.MultiplyWideningAndAdd(b1, Vector256.LoadUnsafe(ref r1, i + 32), q1);
            c0 = AvxVnni.MultiplyWideningAndAdd(c0, Vector256.LoadUnsafe(ref r2, i), q0);
            c1 = AvxVnni.MultiplyWideningAndAdd(c1, Vector256.LoadUnsafe(ref r2, i + 32), q1);
            d0 = AvxVnni.MultiplyWideningAndAdd(d0, Vector256.LoadUnsafe(ref r3, i), q0);
            d1 = AvxVnni.MultiplyWideningAndAdd(d1, Vector256.LoadUnsafe(ref r3, i + 32), q1);
        }
        result[0] = Vector256.Sum(a0 + a1);
        result[1] = Vector256.Sum(b0 + b1);
        result[2] = Vector256.Sum(c0 + c1);
        result[3] = Vector256.Sum(d0 + d1);
    }

    public static ref byte Row(byte[] rows, int slot, int stride) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(rows), (nint)slot * stride);
}
