using RewardKit.Rl;

namespace RewardKit.Tests.Rl;

/// <summary>rl.yaml: snake_case keys and enum values as the docs write them.</summary>
public sealed class RlOptionsTests : IDisposable
{
    readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "rk-rlopt-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    string Yaml(string text)
    {
        var path = Path.Combine(_dir, "rl.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Enum_values_are_read_in_snake_case_as_documented_and_in_other_spellings()
    {
        var o = RlOptions.LoadYaml(Yaml("algo: reinforce\nbaseline: moving_average\nkl_estimator: k3\nreward_scaling: running_zscore\n"));
        Assert.Equal((RlAlgorithm.Reinforce, ReinforceBaseline.MovingAverage, KlEstimator.K3, RewardScaling.RunningZScore),
            (o.Algorithm, o.Baseline, o.KlEstimator, o.RewardScaling));
        var other = RlOptions.LoadYaml(Yaml("baseline: MovingAverage\nreward_scaling: min-max\nkl_estimator: K1\n"));
        Assert.Equal((ReinforceBaseline.MovingAverage, RewardScaling.MinMax, KlEstimator.K1), (other.Baseline, other.RewardScaling, other.KlEstimator));
    }

    [Fact]
    public void An_unknown_enum_value_names_the_file_line_and_the_allowed_values()
    {
        var path = Yaml("kl_coef: 0.1\nbaseline: median\n");
        var e = Assert.Throws<InvalidDataException>(() => RlOptions.LoadYaml(path));
        Assert.Contains($"{path}:2", e.Message);
        Assert.Contains("'median' is not one of batch_mean, moving_average, value", e.Message);
        var scaling = Assert.Throws<InvalidDataException>(() => RlOptions.LoadYaml(Yaml("reward_scaling: zscore\n")));
        Assert.Contains("none, running_zscore, min_max, log", scaling.Message);
    }
}
