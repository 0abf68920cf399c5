using Rift.Learning;
using Rift.Sim.Interop;

namespace Rift.Sim.Tests;

public class ModelTests
{
    public static TheoryData<string> ModelFiles()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(RiftPaths.Models, "*.xml").Order()) data.Add(Path.GetFileName(f));
        return data;
    }

    [Fact]
    public void ModelsFolder_HasEveryTaskScene()
    {
        foreach (var task in SimTasks.TaskNames)
            Assert.True(File.Exists(Path.Combine(RiftPaths.Models, SimTasks.CreateTask(task).ModelFile)), task);
    }

    [Theory]
    [MemberData(nameof(ModelFiles))]
    public void Load_EveryModel_StepsOneSecondUnderRandomControlsWithoutWarnings(string file)
    {
        var warningsBefore = Mujoco.WarningCount;
        using var model = MjModel.Load(Path.Combine(RiftPaths.Models, file));
        using var data = new MjData(model);
        var rng = new Random(7);
        var ctrlRange = model.Array<double>("actuator_ctrlrange");
        var steps = (int)Math.Round(1.0 / model.Timestep);
        for (var t = 0; t < steps; t++)
        {
            if (t % 25 == 0)
            {
                var ctrl = data.Doubles("ctrl");
                for (var i = 0; i < ctrl.Length; i++) ctrl[i] = ctrlRange[2 * i] + rng.NextDouble() * (ctrlRange[2 * i + 1] - ctrlRange[2 * i]);
                // Random walk of the gripper's mocap command (mocap body 0) inside the workspace.
                var mocap = data.Doubles("mocap_pos");
                for (var k = 0; k < 3; k++) mocap[k] = Math.Clamp(mocap[k] + 0.03 * (2 * rng.NextDouble() - 1), k == 2 ? 0.02 : -0.25, k == 2 ? 0.2 : 0.25);
            }
            data.Step();
        }
        Assert.Equal(0, data.WarningCount);
        Assert.Equal(warningsBefore, Mujoco.WarningCount);
        Assert.InRange(data.Time, 0.99, 1.01);
        foreach (var q in data.Doubles("qpos")) Assert.True(double.IsFinite(q));
    }

    [Fact]
    public void Load_MissingFile_NamesTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), "rift-no-such-scene.xml");
        var e = Assert.Throws<MujocoException>(() => MjModel.Load(path));
        Assert.Contains("rift-no-such-scene.xml", e.Message);
    }

    [Theory]
    [InlineData("malformed", "<mujoco>\n  <worldbody>\n    <geom type=\"box\" size=\"0.1 0.1\"/>\n    <body>\n  </worldbody>\n</mujoco>\n")]
    [InlineData("badattr", "<mujoco>\n  <worldbody>\n    <geom type=\"sphere\" size=\"abc\"/>\n  </worldbody>\n</mujoco>\n")]
    public void Load_BadMjcf_NamesFileAndLine(string kind, string xml)
    {
        var path = Path.Combine(Path.GetTempPath(), $"rift-{kind}-{Environment.ProcessId}.xml");
        File.WriteAllText(path, xml);
        try
        {
            var e = Assert.Throws<MujocoException>(() => MjModel.Load(path));
            Assert.Contains(Path.GetFileName(path), e.Message);
            Assert.Contains("line", e.Message, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Step_MuJoCoError_BecomesExceptionAndProcessContinues()
    {
        using var model = MjModel.Load(Path.Combine(RiftPaths.Models, "push.xml"));
        using var data = new MjData(model);
        ref var integrator = ref model.OptionInt("integrator");
        var valid = integrator;
        integrator = 99; // mj_step raises mju_error("Invalid integrator"), which would exit the process by default
        var e = Assert.Throws<MujocoException>(() => data.Step());
        Assert.Contains("integrator", e.Message, StringComparison.OrdinalIgnoreCase);
        integrator = valid;
        data.Reset();
        data.Step(10);
        Assert.True(data.Time > 0);
    }

    [Fact]
    public void ModelFields_ByName_MatchModelSizes()
    {
        using var model = MjModel.Load(Path.Combine(RiftPaths.Models, "push.xml"));
        using var data = new MjData(model);
        Assert.Equal(model.Int("nq"), data.Doubles("qpos").Length);
        Assert.Equal((model.Int("nbody"), 3), model.Shape("body_pos"));
        Assert.Equal(0.004, model.Timestep);
        Assert.Throws<ArgumentException>(() => model.Array<double>("no_such_field"));
        Assert.Throws<ArgumentException>(() => model.Id(MjObject.Body, "no_such_body"));
        Assert.Equal(222, Mujoco.Version);
    }
}
