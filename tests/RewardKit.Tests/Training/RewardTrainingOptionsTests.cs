using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using RewardKit.Models;
using RewardKit.Training;

namespace RewardKit.Tests.Training;

public sealed partial class RewardTrainingOptionsTests : IDisposable
{
    readonly string _dir = TrainingTestData.NewFolder();

    /// <summary>Deletes the test folder.</summary>
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Yaml(string text)
    {
        var path = Path.Combine(_dir, "options.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Every_property_is_an_option_whose_key_is_the_one_ToYaml_writes()
    {
        var properties = typeof(RewardTrainingOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is not null);
        Assert.All(properties, p => Assert.NotNull(p.GetCustomAttribute<TrainingOptionAttribute>()));
        var yamlKeys = new RewardTrainingOptions().ToYaml().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line[..line.IndexOf(':')]);
        Assert.Equal(yamlKeys, RewardTrainingOptions.Descriptors.Select(d => d.Key));
    }

    [Fact]
    public void ToYaml_writes_the_same_text_as_before_the_options_were_typed()
    {
        // The text stored in checkpoints and model folders: lower-case names for preset, schedule and best metric, C# names
        // for the enums that always had them.
        var yaml = new RewardTrainingOptions().ToYaml();
        Assert.Contains("preset: tiny\n", yaml);
        Assert.Contains("pooling: LastToken\n", yaml);
        Assert.Contains("on_overflow: Truncate\n", yaml);
        Assert.Contains("loss: BradleyTerry\n", yaml);
        Assert.Contains("schedule: cosine\n", yaml);
        Assert.Contains("best_metric: accuracy\n", yaml);
        Assert.Contains("learning_rate: 0.0002\n", yaml);
        Assert.Contains("init: \n", yaml);
    }

    [Fact]
    public void Every_option_round_trips_through_the_yaml_config()
    {
        var options = new RewardTrainingOptions
        {
            Preset = ModelPreset.Small, Init = "/models/gpt2", Pooling = RewardPooling.MeanResponse, MaxLength = 64, Dropout = 0.25f,
            Architecture = RewardArchitecture.Separate,
            VocabSize = 1000, Tokenizer = "/tok", Template = "hh", SkipInvalid = true, OnOverflow = OverflowHandling.Drop,
            Loss = RewardLossKind.Focal, UseMargin = true, LabelSmoothing = 0.1, UseWeights = true, CenterRewardsCoefficient = 0.01,
            Temperature = 0.5, HingeMargin = 2, FocalGamma = 3, L2 = 1e-5, LearningRate = 1e-5, WeightDecay = 0.1, WarmupRatio = 0.1,
            Schedule = LearningRateDecay.Linear, MaxGradNorm = 0.5, BatchSize = 4, GradientAccumulationSteps = 3, Epochs = 2, MaxSteps = 9,
            Seed = 123456789012345UL, Threads = 3, WorldSize = 2, SftSteps = 7, SftLearningRate = 2e-3, SftBatchSize = 5, EvalEvery = 11,
            BestMetric = BestModelMetric.Loss, Patience = 2, CheckpointEvery = 4, Resume = true,
            Backbone = "minilm", BackbonePooling = RewardKit.Models.Bert.BertPooling.Mean, BackboneCache = "/cache",
            LoraR = 4, LoraAlpha = 16, LoraDropout = 0.1f, LoraTargets = "c_attn", Objectives = "a,b", ObjectiveWeights = "1,2",
            Ensemble = 3,
        };
        foreach (var d in RewardTrainingOptions.Descriptors)
            Assert.False(Equals(d.Get(options), d.Default), $"the test should set '{d.Key}' to a value other than its default");

        Assert.Equal(options, RewardTrainingOptions.LoadYaml(Yaml(options.ToYaml())));
    }

    [Theory]
    [InlineData("loss: bradley-terry", RewardLossKind.BradleyTerry)]
    [InlineData("loss: bradley_terry", RewardLossKind.BradleyTerry)]
    [InlineData("loss: BradleyTerry", RewardLossKind.BradleyTerry)]
    [InlineData("loss: HINGE", RewardLossKind.Hinge)]
    public void Enum_values_are_read_by_name_in_any_spelling(string line, RewardLossKind expected) =>
        Assert.Equal(expected, RewardTrainingOptions.LoadYaml(Yaml(line + "\n")).Loss);

    [Theory]
    [InlineData("max_length: 64\nschedule: cosin\n", "options.yaml:2", "'cosin' is not one of cosine, linear, constant")]
    [InlineData("best_metric: 1\n", "options.yaml:1", "'1' is not one of accuracy, loss")]
    [InlineData("on_overflow: cut\n", "options.yaml:1", "not one of truncate, drop, error")]
    [InlineData("learning_rat: 0.1\n", "options.yaml:1", "unknown training option 'learning_rat'; the options are preset, init")]
    [InlineData("batch_size: 1.5\n", "options.yaml:1", "'batch_size': '1.5' is not a whole number")]
    [InlineData("batch_size: [1, 2]\n", "options.yaml:1", "takes a single value")]
    public void A_bad_config_is_an_error_naming_the_line_the_option_and_what_it_accepts(string yaml, string where, string what)
    {
        var e = Assert.Throws<InvalidDataException>(() => RewardTrainingOptions.LoadYaml(Yaml(yaml)));
        Assert.Contains(where, e.Message);
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void An_enum_value_that_is_not_defined_fails_validation_naming_the_field()
    {
        var e = Assert.Throws<ArgumentException>(() => new RewardTrainingOptions { Schedule = (LearningRateDecay)7 }.Validate());
        Assert.Contains("'schedule'", e.Message);
        Assert.Contains("cosine, linear, constant", e.Message);
    }

    [Fact]
    public void The_help_of_every_option_opens_its_documentation_and_documented_defaults_are_the_real_ones()
    {
        var docs = XDocument.Load(Path.ChangeExtension(typeof(RewardTrainingOptions).Assembly.Location, ".xml"));
        foreach (var d in RewardTrainingOptions.Descriptors)
        {
            var property = typeof(RewardTrainingOptions).GetProperties().Single(p => Snake(p.Name) == d.Key);
            var member = docs.Descendants("member").Single(m => (string?)m.Attribute("name") == $"P:{typeof(RewardTrainingOptions).FullName}.{property.Name}");
            string summary = Whitespace().Replace(string.Concat(member.Element("summary")!.DescendantNodes().OfType<XText>().Select(t => t.Value)), " ").Trim();
            Assert.StartsWith(Whitespace().Replace(d.Help, " "), summary);
            var stated = DefaultSentence().Match(summary);
            if (stated.Success && d.Default is not null)
                Assert.True(Same(stated.Groups[1].Value, d.Default), $"'{d.Key}' documents default {stated.Groups[1].Value} but the record's is {d.Default}");
        }
    }

    static bool Same(string documented, object actual) => actual switch
    {
        Enum e => string.Equals(documented, TrainingOptionDescriptor.Format(e), StringComparison.OrdinalIgnoreCase),
        bool b => string.Equals(documented, b ? "true" : "false", StringComparison.Ordinal),
        _ => double.Parse(documented, System.Globalization.CultureInfo.InvariantCulture) == Convert.ToDouble(actual, System.Globalization.CultureInfo.InvariantCulture),
    };

    static string Snake(string name) => OptionNames.Snake(name);

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    /// <summary>"Default 16", "Default 2e-4:", "Default bradley-terry." (not "Default: detected ...").</summary>
    [GeneratedRegex(@"Default ([0-9]+(?:\.[0-9]+)?(?:e-?[0-9]+)?|[a-z][a-z\-]*[a-z])(?=[\s.,:;(]|$)")]
    private static partial Regex DefaultSentence();

    [Fact]
    public void A_backbone_without_a_learning_rate_or_dropout_gets_bert_fine_tuning_defaults()
    {
        var scratch = new RewardTrainingOptions();
        var backbone = new RewardTrainingOptions { Backbone = "minilm" };
        Assert.Equal(RewardTrainingOptions.DefaultLearningRate, scratch.PeakLearningRate);
        Assert.Equal(0f, scratch.DropoutRate);
        Assert.Equal(RewardTrainingOptions.BackboneLearningRate, backbone.PeakLearningRate);
        Assert.Equal(0.1f, backbone.DropoutRate);
        Assert.Equal(1e-4, (backbone with { LearningRate = 1e-4 }).PeakLearningRate);
        Assert.Equal(0f, (backbone with { Dropout = 0 }).DropoutRate);
    }

    [Theory]
    [InlineData("loss")]
    [InlineData("init")]
    [InlineData("sft_steps")]
    public void A_backbone_refuses_options_that_only_apply_to_gpt2(string key)
    {
        var options = new RewardTrainingOptions { Backbone = "minilm" };
        options = key switch
        {
            "loss" => options with { Loss = RewardLossKind.Hinge },
            "init" => options with { Init = "/models/gpt2" },
            _ => options with { SftSteps = 5 },
        };
        var e = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains($"'{key}'", e.Message);
    }
}
