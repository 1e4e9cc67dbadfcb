using System.Text.Json;
using RewardKit.Data;
using RewardKit.Evaluation;
using RewardKit.Inference;
using RewardKit.Training;

namespace RewardKit.Tests.Training;

public sealed class MultiObjectiveTrainingTests : TrainingFolderTest
{
    /// <summary>
    /// Pairs whose chosen response is polite and long and whose rejected one is curt: labelled "polite" +1 (chosen better),
    /// "brief" −1 (the rejected, shorter one is better) and "odd" only on every other record.
    /// </summary>
    static string WriteLabelledPairs(string directory, int pairs)
    {
        var path = Path.Combine(directory, "labelled.jsonl");
        using var w = new StreamWriter(path);
        string[] topics = ["the weather", "a recipe", "tea", "chess", "music"];
        for (int i = 0; i < pairs; i++)
        {
            var topic = topics[i % topics.Length];
            var labels = new Dictionary<string, double> { ["polite"] = 1, ["brief"] = -1 };
            if (i % 2 == 0) labels["odd"] = 1;
            w.WriteLine(JsonSerializer.Serialize(new
            {
                prompt = $"Tell me about {topic}, number {i}.",
                chosen = $"Sure, happy to help: here is a clear answer about {topic}. Thank you for asking!",
                rejected = i % 3 == 0 ? "No." : $"Whatever, {topic}.",
                labels,
            }));
        }
        return path;
    }

    [NeedsOpsFact]
    public void Each_head_learns_its_own_objective_from_the_labels_and_the_folder_is_multi_objective()
    {
        var dir = NewFolder();
        var data = WriteLabelledPairs(dir, 40);
        var options = TrainingTestData.Options(maxSteps: 40) with { Objectives = "polite,brief,odd", ObjectiveWeights = "1,0.5,0" };

        var result = new RewardTrainer(options) { ConfigureModel = TrainingTestData.Tiny }.Train(data, null, Path.Combine(dir, "out"));

        using var model = ModelLoading.Load(result.ModelDirectory!);
        var heads = Assert.IsAssignableFrom<IObjectiveRewardModel>(model);
        Assert.Equal([1, 0.5, 0], heads.Objectives.Weights);
        var (pairs, _) = PreferenceReader.ReadAllPairs(data);
        var accuracy = ObjectiveEvaluation.Evaluate(model, pairs);
        Assert.True(accuracy["polite"].Accuracy > 0.9, $"polite head accuracy {accuracy["polite"].Accuracy}");
        Assert.True(accuracy["brief"].Accuracy > 0.9, $"brief head accuracy {accuracy["brief"].Accuracy} (it must prefer the rejected, shorter response)");
        Assert.Equal(20, accuracy["odd"].Pairs);   // records without the label are skipped
    }

    [Fact]
    public void Objectives_with_init_lora_or_another_loss_are_refused_naming_the_option()
    {
        var withInit = Assert.Throws<ArgumentException>(() => new RewardTrainingOptions { Objectives = "a,b", Init = "x" }.Validate());
        Assert.Contains("'objectives'", withInit.Message);
        var hinge = Assert.Throws<ArgumentException>(() => new RewardTrainingOptions { Objectives = "a,b", Loss = RewardLossKind.Hinge }.Validate());
        Assert.Contains("'objectives'", hinge.Message);
        var weightsAlone = Assert.Throws<ArgumentException>(() => new RewardTrainingOptions { ObjectiveWeights = "1,2" }.Validate());
        Assert.Contains("'objective_weights'", weightsAlone.Message);
        var keys = RewardTrainingOptions.Descriptors.ToDictionary(d => d.Key);
        Assert.Equal("--objectives", keys["objectives"].Flags[0]);
        Assert.Equal("--objective-weights", keys["objective_weights"].Flags[0]);
    }
}
