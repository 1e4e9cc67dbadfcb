namespace RewardKit.Inference;

/// <summary>
/// Opens a model folder (weights, <c>config.json</c>, <c>rewardkit.json</c>, tokenizer) as an <see cref="IRewardModel"/>.
/// The CLI and the service receive one of these instead of knowing a model family, so a test can pass a fake.
/// </summary>
/// <param name="modelDirectory">The model folder.</param>
public delegate IRewardModel RewardModelLoader(string modelDirectory);

/// <summary>The loader the CLI and the service use by default.</summary>
public static class ModelLoading
{
    /// <summary>Opens the model folder <paramref name="modelDirectory"/> with RewardKit's built-in model families (GPT-2 reward models, BERT cross-encoders, ensembles of them).</summary>
    public static IRewardModel Load(string modelDirectory) => Load(modelDirectory, verifyVersion: true);

    /// <summary>
    /// As <see cref="Load(string)"/>; with <paramref name="verifyVersion"/> false the weights of a GPT-2 folder are not checked
    /// against rewardkit.json's <c>version</c> (sha256), for a folder whose weights were changed on purpose.
    /// </summary>
    public static IRewardModel Load(string modelDirectory, bool verifyVersion) =>
        RewardKit.Models.Ensemble.EnsembleFolder.IsEnsemble(modelDirectory)   // an ensemble: each member through this loader
            ? EnsembleRewardModel.Load(modelDirectory, member => Load(member, verifyVersion), verifyVersion)
        : RewardKit.Models.Bert.BertModelFolder.IsBert(modelDirectory)
            ? BertRewardScorer.Load(modelDirectory)
            : GptModelLoader.Load(modelDirectory, verifyVersion: verifyVersion);
}
