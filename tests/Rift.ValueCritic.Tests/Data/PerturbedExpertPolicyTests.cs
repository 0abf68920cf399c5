using Rift.Learning;
using Rift.ValueCritic;

namespace Rift.ValueCritic.Tests.Data;

public class PerturbedExpertPolicyTests
{
    private const int MaxSteps = 80; // lapses start at steps 1..19 (2–25% of 80), temporary ones last 4–20 steps

    private static readonly Observation Obs = new() { Proprio = [0f] };

    private static PerturbedExpertPolicy Policy(int seed, int steps)
    {
        var p = new PerturbedExpertPolicy(new ConstantExpert(0f), new PerturbedExpertOptions { ActionNoise = 0.25 }, MaxSteps);
        p.Reset(seed);
        var a = new float[4];
        for (var t = 0; t < steps; t++) p.Act(Obs, a);
        return p;
    }

    [Fact]
    public void Reset_Seed_DrawsThePinnedSchedule()
    {
        // The seed → schedule map fixes every cached episode; these values are the schedules the caches were built with.
        var expected = new (LapseKind Kind, int Start, int End)[]
        {
            (LapseKind.Release, 13, int.MaxValue), (LapseKind.Drift, 18, int.MaxValue), (LapseKind.None, int.MaxValue, int.MaxValue),
            (LapseKind.None, int.MaxValue, int.MaxValue), (LapseKind.None, int.MaxValue, int.MaxValue), (LapseKind.Jitter, 2, int.MaxValue),
            (LapseKind.Drift, 7, 24), (LapseKind.Release, 13, 18),
        };
        for (var s = 0; s < expected.Length; s++)
        {
            var p = Policy(s, 0);
            Assert.Equal(expected[s], (p.Kind, p.LapseStart, p.LapseEnd));
        }
        var drift = Policy(6, 7);
        var a = new float[4];
        drift.Act(Obs, a);
        Assert.Equal([0.19754902f, -0.6715463f, 0.09446007f, 0f], a);
    }

    [Fact]
    public void Fork_KeepingSchedule_CopiesIt()
    {
        var p = Policy(7, 15);
        for (var i = 0; i < 20; i++)
        {
            var f = p.Fork(new ConstantExpert(0f), noiseSeed: i);
            Assert.Equal((p.Kind, p.LapseStart, p.LapseEnd, p.Step), (f.Kind, f.LapseStart, f.LapseEnd, f.Step));
        }
    }

    [Fact]
    public void Fork_RedrawDuringLapse_DrawsTheRestGivenItIsStillRunning()
    {
        // Seed 6: Drift from step 7, temporary. At step 12 the lapse has run 5 steps, so its length (4 + U{0..16} if
        // temporary) is ≥ 6: P(permanent | still running) = 0.5 / (0.5 + 0.5·15/17) = 17/32, and a temporary one ends
        // uniformly at steps 13..27.
        var p = Policy(6, 12);
        Assert.True(p.InLapse);
        const int n = 4000;
        int permanent = 0, minEnd = int.MaxValue, maxEnd = 0;
        for (var i = 0; i < n; i++)
        {
            var f = p.Fork(new ConstantExpert(0f), noiseSeed: i, redrawSchedule: true);
            Assert.Equal((LapseKind.Drift, 7, 12), (f.Kind, f.LapseStart, f.Step));
            Assert.True(f.InLapse);
            if (f.LapseEnd == int.MaxValue) { permanent++; continue; }
            minEnd = Math.Min(minEnd, f.LapseEnd);
            maxEnd = Math.Max(maxEnd, f.LapseEnd);
        }
        Assert.InRange((double)permanent / n, 17.0 / 32 - 0.04, 17.0 / 32 + 0.04);
        Assert.Equal((13, 27), (minEnd, maxEnd));
    }

    [Fact]
    public void Fork_RedrawBeforeLapse_NeverStartsOneInThePast()
    {
        // Seed 2 has no lapse. At step 10 nothing has started: a lapse starts at 10..19 (10 of the 19 start steps), so
        // P(no lapse | none by step 10) = 0.3 / (0.3 + 0.7·10/19) ≈ 0.449.
        var p = Policy(2, 10);
        const int n = 4000;
        var none = 0;
        for (var i = 0; i < n; i++)
        {
            var f = p.Fork(new ConstantExpert(0f), noiseSeed: i, redrawSchedule: true);
            if (f.Kind == LapseKind.None) { none++; continue; }
            Assert.InRange(f.LapseStart, 10, 19);
            Assert.True(f.LapseEnd > f.LapseStart);
        }
        Assert.InRange((double)none / n, 0.449 - 0.04, 0.449 + 0.04);
    }

    [Fact]
    public void Fork_RedrawAfterLapseEnded_KeepsTheSchedule()
    {
        var p = Policy(7, 20); // Release at 13..17, over by step 18
        for (var i = 0; i < 20; i++)
        {
            var f = p.Fork(new ConstantExpert(0f), noiseSeed: i, redrawSchedule: true);
            Assert.Equal((LapseKind.Release, 13, 18), (f.Kind, f.LapseStart, f.LapseEnd));
        }
    }

    [Fact]
    public void Fork_RedrawForcedLapse_StaysPermanent()
    {
        var p = new PerturbedExpertPolicy(new ConstantExpert(0f), new PerturbedExpertOptions { ActionNoise = 0.25 }, MaxSteps);
        p.Reset(0, forceLapse: true);
        var a = new float[4];
        for (var t = 0; t < p.LapseStart + 2; t++) p.Act(Obs, a);
        for (var i = 0; i < 50; i++)
            Assert.Equal(int.MaxValue, p.Fork(new ConstantExpert(0f), noiseSeed: i, redrawSchedule: true).LapseEnd);
    }
}
