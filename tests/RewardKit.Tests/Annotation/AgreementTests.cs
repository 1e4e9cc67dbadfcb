using System.Text.Json;
using RewardKit.Annotation;

namespace RewardKit.Tests.Annotation;

public class AgreementTests
{
    static readonly JsonElement F = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Annotation", "Fixtures", "agreement.json"))).RootElement;

    static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    [Fact]
    public void Cohens_kappa_matches_scikit_learn()
    {
        foreach (var c in F.GetProperty("cohen").EnumerateArray())
            Assert.Equal(c.GetProperty("kappa").GetDouble(), Agreement.CohenKappa(Ints(c.GetProperty("a")), Ints(c.GetProperty("b"))), 1e-12);
    }

    [Fact]
    public void Cohens_kappa_of_the_textbook_yes_no_example_is_0_4()
    {
        // 50 items: both yes 20, A yes B no 5, A no B yes 10, both no 15 → p_o = 0.7, p_e = 0.5, κ = 0.4.
        int[] a = [.. Enumerable.Repeat(1, 25), .. Enumerable.Repeat(0, 25)];
        int[] b = [.. Enumerable.Repeat(1, 20), .. Enumerable.Repeat(0, 5), .. Enumerable.Repeat(1, 10), .. Enumerable.Repeat(0, 15)];
        Assert.Equal(0.4, Agreement.CohenKappa(a, b), 12);
    }

    [Fact]
    public void Fleiss_kappa_matches_statsmodels_and_the_worked_example()
    {
        var cases = F.GetProperty("fleiss").EnumerateArray().ToList();
        foreach (var c in cases)
        {
            var counts = c.GetProperty("counts").EnumerateArray().Select(row => (IReadOnlyList<int>)Ints(row)).ToList();
            Assert.Equal(c.GetProperty("kappa").GetDouble(), Agreement.FleissKappa(counts), 1e-12);
        }
        var wiki = cases[^1].GetProperty("counts").EnumerateArray().Select(row => (IReadOnlyList<int>)Ints(row)).ToList();
        Assert.Equal(0.210, Agreement.FleissKappa(wiki), 3);
    }

    [Theory]
    [InlineData(AlphaLevel.Nominal, "nominal")]
    [InlineData(AlphaLevel.Ordinal, "ordinal")]
    [InlineData(AlphaLevel.Interval, "interval")]
    [InlineData(AlphaLevel.Ratio, "ratio")]
    public void Krippendorffs_alpha_reproduces_Krippendorffs_own_worked_example(AlphaLevel level, string name)
    {
        var k = F.GetProperty("krippendorff");
        var observers = k.GetProperty("observers").EnumerateArray().Select(o => o.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? (double?)null : v.GetDouble()).ToArray()).ToArray();
        var units = Enumerable.Range(0, observers[0].Length)
            .Select(u => (IReadOnlyList<double>)observers.Where(o => o[u] is not null).Select(o => o[u]!.Value).ToArray()).ToList();
        Assert.Equal(k.GetProperty("alpha").GetProperty(name).GetDouble(), Agreement.KrippendorffAlpha(units, level), 3);
    }

    [Fact]
    public void Ordinal_alpha_depends_only_on_the_order_of_the_values_and_interval_alpha_does_not()
    {
        var rng = new Random(5);
        var units = Enumerable.Range(0, 30).Select(_ => (IReadOnlyList<double>)Enumerable.Range(0, rng.Next(2, 5)).Select(_ => (double)rng.Next(1, 6)).ToArray()).ToList();
        var stretched = units.Select(u => (IReadOnlyList<double>)u.Select(v => Math.Exp(v)).ToArray()).ToList();
        Assert.Equal(Agreement.KrippendorffAlpha(units, AlphaLevel.Ordinal), Agreement.KrippendorffAlpha(stretched, AlphaLevel.Ordinal), 12);
        Assert.NotEqual(Agreement.KrippendorffAlpha(units, AlphaLevel.Interval), Agreement.KrippendorffAlpha(stretched, AlphaLevel.Interval), 6);
    }

    [Fact]
    public void Perfect_agreement_is_1_and_statistics_without_variation_or_pairs_are_NaN()
    {
        Assert.Equal(1, Agreement.CohenKappa([0, 1, 2, 1], [0, 1, 2, 1]), 12);
        Assert.Equal(1, Agreement.FleissKappa([[3, 0], [0, 3], [3, 0]]), 12);
        Assert.Equal(1, Agreement.KrippendorffAlpha([[1, 1], [2, 2, 2], [5, 5]], AlphaLevel.Ordinal), 12);
        Assert.True(double.IsNaN(Agreement.CohenKappa([1, 1, 1], [1, 1, 1])), "one category: chance agreement is 1");
        Assert.True(double.IsNaN(Agreement.FleissKappa([[1, 0], [0, 1]])), "no item has two labels");
        Assert.True(double.IsNaN(Agreement.KrippendorffAlpha([[3], [4]], AlphaLevel.Nominal)), "no pairable unit");
        Assert.True(double.IsNaN(Agreement.KrippendorffAlpha([[3, 3], [3, 3]], AlphaLevel.Interval)), "no variation at all");
    }

    [Fact]
    public void Systematic_disagreement_is_below_zero()
    {
        Assert.True(Agreement.CohenKappa([0, 1, 0, 1], [1, 0, 1, 0]) < 0);
        Assert.True(Agreement.KrippendorffAlpha([[1, 5], [5, 1], [1, 5], [5, 1]], AlphaLevel.Ordinal) < 0);
    }

    [Fact]
    public void Cohens_kappa_rejects_label_lists_of_different_lengths()
    {
        var e = Assert.Throws<ArgumentException>(() => Agreement.CohenKappa([1, 2], [1]));
        Assert.Contains("2 and 1 items", e.Message);
    }
}
