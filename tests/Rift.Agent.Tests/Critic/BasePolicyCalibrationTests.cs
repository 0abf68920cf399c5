using Rift.Sim;
using Rift.ValueCritic;

namespace Rift.Agent.Tests.Critic;

/// <summary>
/// The trigger benchmark's base policy fails because of its lapses, not its noise: without lapses, each task's
/// default noise level leaves the scripted expert successful (PerturbedExpertOptions.DefaultActionNoise).
/// </summary>
public class BasePolicyCalibrationTests
{
    private static double LapseFreeSuccess(string task, double? noise, int episodes = 20)
    {
        using var env = SimTasks.Create(task);
        var options = new PerturbedExpertOptions { ActionNoise = noise, LapseProbability = 0 }.ForTask(task);
        var collector = new RolloutCollector(env, () => SimTasks.CreateExpert(task), options);
        var wins = 0;
        for (var e = 0; e < episodes; e++)
            if (collector.Run(RolloutKind.Base, 7_000 + e).Success) wins++;
        return (double)wins / episodes;
    }

    [Theory]
    [InlineData("push")]
    [InlineData("peg-insert")]
    [InlineData("pick-place")]
    public void LapseFree_TaskNoise_MostlySucceeds(string task) => Assert.True(LapseFreeSuccess(task, null) >= 0.8, task);

    [Fact]
    public void LapseFree_PegInsertAtPushNoise_MostlyFails() => Assert.True(LapseFreeSuccess("peg-insert", 0.25) <= 0.4);
}
