using Rift.ValueCritic;

namespace Rift.ValueCritic.Tests.Data;

public class TriggerScoringTests
{
    private static bool[] Labels(int n, params (int Start, int End)[] runs)
    {
        var l = new bool[n];
        foreach (var (s, e) in runs) for (var t = s; t <= e; t++) l[t] = true;
        return l;
    }

    [Fact]
    public void EventsOf_MergesSmallGapsAndDropsShortRuns()
    {
        var s = new TriggerScoring { MergeGap = 2, MinEventSteps = 3 };
        var events = s.EventsOf(Labels(40, (5, 8), (10, 12), (20, 21), (30, 35)));
        Assert.Equal([(5, 12), (30, 35)], events);
    }

    [Fact]
    public void Add_FiringsInsideOrJustBeforeEvents_CountAsTruePositives()
    {
        var s = new TriggerScoring { MergeGap = 0, MinEventSteps = 1, EarlyTolerance = 3 };
        // Events [10, 15] and [30, 39]; firings: 8 (early, TP), 14 (TP), 20 (FP), 33 (TP).
        s.Add(Labels(40, (10, 15), (30, 39)), [8, 14, 20, 33]);
        Assert.Equal(4, s.Firings);
        Assert.Equal(3, s.TruePositiveFirings);
        Assert.Equal(2, s.Events);
        Assert.Equal(2, s.DetectedEvents);
        Assert.Equal(0.75, s.Precision, 6);
        Assert.Equal(1.0, s.Recall, 6);
        Assert.Equal(2 * 0.75 / 1.75, s.F1, 6);
    }

    [Fact]
    public void Add_NoFirings_RecallZeroAndF1Zero()
    {
        var s = new TriggerScoring();
        s.Add(Labels(20, (5, 15)), []);
        Assert.Equal(0, s.F1);
        Assert.Equal(1, s.Events);
    }

    [Fact]
    public void FitEpisodes_HoldsOutTheValidationFractionForThresholds()
    {
        Assert.Equal(480, new TriggerEvalOptions().FitEpisodes(600)); // default 0.2
        Assert.Equal(600, new TriggerEvalOptions { ThresholdValidation = 0 }.FitEpisodes(600));
        Assert.Equal(1, new TriggerEvalOptions { ThresholdValidation = 0.9 }.FitEpisodes(2)); // both parts non-empty
        Assert.Equal(2, new TriggerEvalOptions { ThresholdValidation = 0.01 }.FitEpisodes(3));
        Assert.Throws<ArgumentException>(() => new TriggerEvalOptions().FitEpisodes(1));
    }
}
