using System.Drawing;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using RewardKit.Evaluation;
using RewardKit.Reports;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Tests.Evaluation;

public class HtmlReportTests
{
    static readonly string[] ChartIds = ["chart-reliability", "chart-rewards", "chart-categories", "chart-length", "chart-train-loss", "chart-train-accuracy"];

    /// <summary>Synthetic pairs: rewards that mostly prefer chosen, 36 categories (one with markup in its name; as many as PandaLM's 49 widen the chart), lengths that sway rewards.</summary>
    static List<ScoredPair> Pairs(int n, int seed)
    {
        var rng = new Random(seed);
        string[] categories = ["chat", "math", "<code> & \"safety\"", "reasoning", "harmlessness-red-teaming", "open_qa",
            .. Enumerable.Range(0, 30).Select(i => $"site-{i}.example.com")];
        return Enumerable.Range(0, n).Select(i =>
        {
            int lc = rng.Next(20, 400), lr = rng.Next(20, 400);
            double truth = rng.NextDouble() * 4 - 1;
            double rc = truth + 0.002 * lc + Gaussian(rng) * 0.8, rr = 0.002 * lr + Gaussian(rng) * 0.8;
            return new ScoredPair($"p{i / 2}", categories[i % categories.Length], i < n / 2 ? "hh.jsonl" : "pandalm.jsonl", rc, rr, lc, lr,
                PTrue: Activations.Sigmoid(truth));
        }).ToList();
    }

    static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>A metrics.jsonl in the trainer's format: a train row every step, an eval row every 10 steps.</summary>
    static string MetricsFile(string dir, int steps)
    {
        var lines = new List<string>();
        for (int s = 1; s <= steps; s++)
        {
            double loss = 0.69 * Math.Exp(-s / 40.0) + 0.3 + 0.05 * Math.Sin(s);
            lines.Add($"{{\"step\":{s},\"epoch\":{s / (double)steps:0.####},\"loss\":{loss:0.######},\"accuracy\":{1 - loss * 0.6:0.######},\"learning_rate\":0.0001}}");
            if (s % 10 == 0) lines.Add($"{{\"step\":{s},\"eval_loss\":{loss + 0.05:0.######},\"eval_accuracy\":{1 - loss * 0.65:0.######}}}");
        }
        var path = Path.Combine(dir, "metrics.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    static string OutputDir(string name)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "report-output", name);
        Directory.CreateDirectory(dir);
        return dir;
    }

    static (EvaluationReport Report, List<ScoredPair> Pairs) Evaluate()
    {
        var pairs = Pairs(2000, 7);
        var report = Evaluator.Evaluate(pairs, new EvaluationOptions { Temperature = 1.6, Resamples = 200, NoiseSimulations = 100 });
        return (report, pairs);
    }

    /// <summary>Drawn inside a clipped group without text: the plot area (data), not the legend (also clipped, with its labels).</summary>
    static bool InPlotArea(XElement e) =>
        e.Ancestors().Any(a => a.Attribute("clip-path") is not null && !a.Descendants().Any(d => d.Name.LocalName == "text"));

    static List<string> SvgBlocks(string html) => Regex.Matches(html, "<svg\\b.*?</svg>", RegexOptions.Singleline).Select(m => m.Value).ToList();

    [Fact]
    public void Report_has_every_chart_as_well_formed_svg_and_the_whole_page_is_well_formed()
    {
        var dir = OutputDir("structure");
        var (report, pairs) = Evaluate();
        var html = HtmlReport.Render(report, pairs, MetricsFile(dir, 120));

        var svgs = SvgBlocks(html).Select(XDocument.Parse).ToList();
        Assert.Equal(ChartIds, svgs.Select(d => (string?)d.Root!.Attribute("id")));
        foreach (var svg in svgs)
        {
            XNamespace ns = "http://www.w3.org/2000/svg";
            Assert.Equal(ns + "svg", svg.Root!.Name);
            Assert.False(string.IsNullOrWhiteSpace(svg.Root.Element(ns + "title")?.Value), "every chart has a title");
            Assert.True(svg.Descendants(ns + "text").Count() >= 6, "every chart has tick labels");
            Assert.NotNull(svg.Root.Attribute("viewBox"));
        }
        // The whole page parses as XML too (no stray unescaped markup anywhere).
        var page = XDocument.Parse(html);
        Assert.Equal("html", page.Root!.Name.LocalName);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch("(src|href)=\"(https?:)?//", html);

        // The category with markup in its name is escaped, and its chart has one bar and one error bar (three strokes) per category.
        Assert.Contains("&lt;code&gt; &amp; &quot;safety&quot;", html);
        var categories = svgs.Single(d => (string?)d.Root!.Attribute("id") == "chart-categories");
        Assert.Equal(36, categories.Descendants().Count(e => e.Name.LocalName == "rect" && (string?)e.Attribute("fill") == ChartPalette.Green && InPlotArea(e)));
        var errorBars = categories.Descendants().Single(e => e.Name.LocalName == "path" && (string?)e.Attribute("stroke") == "#222");
        Assert.Equal(36 * 3, errorBars.Attribute("d")!.Value.Count(c => c == 'M'));
        // Histograms: two series (shared bins: SvgChartTests), with a legend naming both.
        var rewards = svgs.Single(d => (string?)d.Root!.Attribute("id") == "chart-rewards");
        int Bins(string color) => rewards.Descendants().Count(e => e.Name.LocalName == "rect" && (string?)e.Attribute("fill") == color && InPlotArea(e));
        Assert.True(Bins(ChartPalette.Blue) > 5 && Bins(ChartPalette.Vermillion) > 5, "both histograms are drawn (empty bins are not)");
        Assert.Contains(rewards.Descendants(), e => e.Name.LocalName == "text" && e.Value == "chosen");
        Assert.Contains(rewards.Descendants(), e => e.Name.LocalName == "text" && e.Value == "rejected");
        // Summary table holds the key numbers as formatted by the report.
        Assert.Contains(MarkupText.Number(report.Accuracy.Value), html);
        Assert.Contains(MarkupText.Number(report.Ece), html);
        Assert.Contains(MarkupText.Number(report.EceUncalibrated), html);
    }

    [Fact]
    public void The_response_only_baseline_appears_beside_the_length_only_one_when_it_was_run()
    {
        var (report, pairs) = Evaluate();
        Assert.DoesNotContain("response-only baseline", HtmlReport.Render(report, pairs, null));
        report.ResponseOnlyBaselineAccuracy = 0.6125;
        var html = HtmlReport.Render(report, pairs, null);
        int length = html.IndexOf("length-only baseline accuracy", StringComparison.Ordinal);
        int response = html.IndexOf("response-only baseline accuracy", StringComparison.Ordinal);
        Assert.True(length >= 0 && response > length, "the response-only row follows the length-only row");
        Assert.Contains(MarkupText.Number(0.6125), html);
    }

    [Fact]
    public void Rendering_is_deterministic()
    {
        var dir = OutputDir("determinism");
        var (report, pairs) = Evaluate();
        var metrics = MetricsFile(dir, 50);
        Assert.Equal(HtmlReport.Render(report, pairs, metrics), HtmlReport.Render(report, pairs, metrics));
    }

    [Fact]
    public void A_missing_metrics_log_omits_the_training_curves_with_a_note()
    {
        var (report, pairs) = Evaluate();
        var missing = Path.Combine(OutputDir("missing"), "no-such-metrics.jsonl");
        var html = HtmlReport.Render(report, pairs, missing);
        Assert.DoesNotContain("chart-train-loss", html);
        Assert.Contains("Training curves omitted", html);
        Assert.Contains("no-such-metrics.jsonl", html);
        Assert.Equal(4, SvgBlocks(html).Count);
        Assert.Contains("Training curves omitted: no metrics.jsonl was given.", HtmlReport.Render(report, pairs, null));
    }

    [Fact]
    public void A_malformed_metrics_line_is_reported_with_file_and_line()
    {
        var path = Path.Combine(OutputDir("malformed"), "metrics.jsonl");
        File.WriteAllLines(path, ["{\"step\":1,\"loss\":0.7}", "", "{\"loss\":0.6}"]);
        var e = Assert.Throws<InvalidDataException>(() => TrainingMetricsLog.Read(path));
        Assert.Contains($"{path}:3", e.Message);
        Assert.Contains("step", e.Message);
        File.WriteAllLines(path, ["{\"step\":1,\"loss\":0.7}", "{not json"]);
        Assert.Contains($"{path}:2", Assert.Throws<InvalidDataException>(() => TrainingMetricsLog.Read(path)).Message);
    }

    [Fact]
    public void Non_finite_rewards_are_left_out_of_the_charts_and_counted_on_the_page()
    {
        var (report, pairs) = Evaluate();
        var chosen = pairs.Select(p => p.RewardChosen).ToList();
        chosen[3] = double.NaN;
        var html = HtmlReport.Render(report, chosen, pairs.Select(p => p.RewardRejected).ToList(), [(10, 1), (20, double.PositiveInfinity)], null);
        Assert.Contains("1 non-finite rewards not plotted", html);
        Assert.Contains("1 non-finite points not plotted", html);
        Assert.All(SvgBlocks(html), s => XDocument.Parse(s));
    }

    [Fact]
    public void A_large_length_scatter_is_thinned_evenly_and_says_so()
    {
        var (report, pairs) = Evaluate();
        var points = Enumerable.Range(0, 9000).Select(i => ((double)i, Math.Sin(i))).ToList();
        var html = HtmlReport.Render(report, pairs.Select(p => p.RewardChosen).ToList(), pairs.Select(p => p.RewardRejected).ToList(), points, null);
        var scatter = XDocument.Parse(SvgBlocks(html).Single(s => s.Contains("id=\"chart-length\"")));
        Assert.Equal(4500, scatter.Descendants().Count(e => e.Name.LocalName == "ellipse" && (string?)e.Attribute("fill") == ChartPalette.Purple && InPlotArea(e)));
        Assert.Contains("Showing 4500 of 9000 points (1 in 2).", html);
    }

    [ChromiumFact]
    public void Report_renders_in_headless_chromium_without_console_errors()
    {
        var dir = OutputDir("browser");
        var (report, pairs) = Evaluate();
        var htmlPath = Path.Combine(dir, "report.html");
        File.WriteAllText(htmlPath, HtmlReport.Render(report, pairs, MetricsFile(dir, 120)));

        // Explicit driver and browser paths, so Selenium Manager never looks anything up or downloads.
        var service = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = ChromiumFactAttribute.Browser };
        var profile = Directory.CreateTempSubdirectory("rewardkit-chromium-");
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,900", $"--user-data-dir={profile.FullName}");
        options.SetLoggingPreference(LogType.Browser, OpenQA.Selenium.LogLevel.All);
        try
        {
            using var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(30));
            driver.Navigate().GoToUrl(new Uri(htmlPath).AbsoluteUri);

            var svgs = driver.FindElements(By.TagName("svg"));
            Assert.Equal(ChartIds, svgs.Select(s => s.GetAttribute("id")));
            foreach (var svg in svgs)
                Assert.True(svg.Size.Width > 0 && svg.Size.Height > 0, $"{svg.GetAttribute("id")} rendered {svg.Size.Width}×{svg.Size.Height}");

            var severe = driver.Manage().Logs.GetLog(LogType.Browser).Where(e => e.Level == OpenQA.Selenium.LogLevel.Severe).ToList();
            Assert.True(severe.Count == 0, "console errors: " + string.Join("; ", severe.Select(e => e.Message)));

            var height = Convert.ToInt32(((IJavaScriptExecutor)driver).ExecuteScript("return document.documentElement.scrollHeight;"));
            driver.Manage().Window.Size = new Size(1280, Math.Clamp(height + 140, 600, 8000));
            var png = Path.Combine(dir, "report.png");
            ((ITakesScreenshot)driver).GetScreenshot().SaveAsFile(png);
            Assert.True(new FileInfo(png).Length > 10_000, "the screenshot is not blank");
        }
        finally
        {
            try { profile.Delete(recursive: true); } catch (IOException) { } // Chromium may still hold a lock file for a moment.
        }
    }
}
