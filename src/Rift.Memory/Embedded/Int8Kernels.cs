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
    /// <summary>Row stride in bytes: dimension rounded up to 64 (two 32-byte lanes per step).</summary>
    public static int PaddedDim(int dim) => (dim + 63) & ~63;

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

    public static ref byte Row(byte[] rows, int slot, int stride) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(rows), (nint)slot * stride);
}
