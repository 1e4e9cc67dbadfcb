using RewardKit.Training;

namespace RewardKit.Tests.Training;

public class ObjectiveWeightFitTests
{
    [Fact]
    public void The_fit_recovers_the_weights_that_generated_bradley_terry_preferences()
    {
        double[] truth = [1.5, 0.5, -0.8];
        var rng = new Random(3);
        int n = 20_000, k = truth.Length;
        var differences = new double[n * k];
        for (int i = 0; i < n; i++)
        {
            var d = new double[k];
            double z = 0;
            for (int j = 0; j < k; j++) { d[j] = rng.NextDouble() * 4 - 2; z += truth[j] * d[j]; }
            bool firstWins = rng.NextDouble() < 1 / (1 + Math.Exp(-z));
            for (int j = 0; j < k; j++) differences[i * k + j] = firstWins ? d[j] : -d[j];   // rows are (winner − loser)
        }

        var fitted = ObjectiveWeightFit.Fit(differences, k);

        for (int j = 0; j < k; j++) Assert.InRange(fitted[j], truth[j] - 0.1, truth[j] + 0.1);
    }

    [Fact]
    public void Differences_that_do_not_fill_rows_are_refused()
    {
        Assert.Throws<ArgumentException>(() => ObjectiveWeightFit.Fit(new double[5], 3));
    }
}
