using System.Drawing;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Interactions;
using RewardKit.Annotation;
using RewardKit.Server.Annotation;
using static RewardKit.Testing.AnnotationTestData;

namespace RewardKit.Cli.Tests;

/// <summary>
/// End to end through headless Chromium: two annotators complete a session in each mode (one with the keyboard
/// shortcuts, one with the mouse), the admin page shows the result, every page passes axe-core without critical
/// violations and is kept as a screenshot in the test output folder; then `annotate export` and `train` on the export.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class AnnotationBrowserTests : IDisposable
{
    readonly string _dir = TempFolder("browser");
    readonly string _artifacts = Path.Combine(AppContext.BaseDirectory, "annotation-browser");
    readonly List<string> _violations = [];
    readonly List<string> _timings = [];
    readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    void Mark(string what) => _timings.Add($"{_clock.Elapsed.TotalSeconds,7:0.00} s  {what}");

    public AnnotationBrowserTests() => Directory.CreateDirectory(_artifacts);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    // ---- the browser ------------------------------------------------------------------------------------------------

    static ChromeDriver StartChromium(string profile)
    {
        // Explicit driver and browser paths, so Selenium Manager never looks anything up or downloads.
        var service = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = ChromiumFactAttribute.Browser };
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,900", $"--user-data-dir={profile}");
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    /// <summary>Runs <paramref name="action"/> and waits for the page it leads to (the old document goes stale).</summary>
    static void AndWait(IWebDriver driver, Action action)
    {
        var old = driver.FindElement(By.TagName("html"));
        action();
        var until = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < until)
        {
            try { _ = old.Enabled; }
            catch (StaleElementReferenceException) { return; }
            // Chromium sometimes reports the detached node as an inspector error instead of a stale reference: the page changed too.
            catch (UnknownErrorException e) when (e.Message.Contains("does not belong to the document", StringComparison.Ordinal)) { return; }
            Thread.Sleep(20);
        }
        throw new TimeoutException("the page did not change");
    }

    static void Keys(IWebDriver driver, string keys) => new Actions(driver).SendKeys(keys).Perform();

    static string Heading(IWebDriver driver) => driver.FindElement(By.TagName("h1")).Text;

    /// <summary>axe-core's source and the scan script, as shipped inside Selenium.Axe 2.0.3.</summary>
    static readonly Lazy<(string Axe, string Scan)> AxeScripts = new(() =>
    {
        // Selenium.Axe 2.0.3's AxeBuilder is compiled against Selenium 3's "WebDriver" assembly, which Selenium 4 renamed,
        // so it cannot take a Selenium 4 driver; its embedded axe-core (4.1.1) and scan script are run here instead.
        var assembly = Assembly.Load("Selenium.Axe");
        string Read(string name)
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            return new StreamReader(stream).ReadToEnd();
        }
        return (Read("Selenium.Axe.Resources.axe.min.js"), Read("Selenium.Axe.Resources.scan.js"));
    });

    /// <summary>Screenshot (full page) and axe-core check of the current page; critical violations fail the test at the end.</summary>
    void Inspect(IWebDriver driver, string name)
    {
        Mark($"inspect {name} start");
        var js = (IJavaScriptExecutor)driver;
        js.ExecuteScript(AxeScripts.Value.Axe);
        driver.Manage().Timeouts().AsynchronousJavaScript = TimeSpan.FromSeconds(60);
        var raw = (string)js.ExecuteAsyncScript(AxeScripts.Value.Scan, null!, "{\"resultTypes\": [\"violations\"]}")!;
        using var result = JsonDocument.Parse(raw);
        Assert.Equal("", result.RootElement.GetProperty("error").GetString());
        var violations = result.RootElement.GetProperty("results").GetProperty("violations");
        File.WriteAllText(Path.Combine(_artifacts, $"{name}.axe.json"), violations.GetRawText());
        foreach (var v in violations.EnumerateArray())
            _violations.Add($"{name}: {v.GetProperty("impact").GetString()} {v.GetProperty("id").GetString()} ({v.GetProperty("help").GetString()}, {v.GetProperty("nodes").GetArrayLength()} nodes)");

        var height = Convert.ToInt32(js.ExecuteScript("return document.documentElement.scrollHeight;"));
        driver.Manage().Window.Size = new Size(1280, Math.Clamp(height + 140, 600, 4000));
        var png = Path.Combine(_artifacts, $"{name}.png");
        ((ITakesScreenshot)driver).GetScreenshot().SaveAsFile(png);
        driver.Manage().Window.Size = new Size(1280, 900);
        Assert.True(new FileInfo(png).Length > 5_000, $"{name}: the screenshot is not blank");
        Mark($"inspect {name} end");
    }

    void SignIn(IWebDriver driver, string url, string token)
    {
        driver.Manage().Cookies.DeleteAllCookies();
        driver.Navigate().GoToUrl(url + "/login");
        driver.FindElement(By.Id("token")).SendKeys(token);
        AndWait(driver, () => driver.FindElement(By.Id("token")).SendKeys(OpenQA.Selenium.Keys.Enter));
    }

    // ---- a session ---------------------------------------------------------------------------------------------------

    /// <summary>Answers every task in the queue; <paramref name="answer"/> acts on the page of the task with the given id.</summary>
    static List<string> Session(IWebDriver driver, Action<string> answer)
    {
        var done = new List<string>();
        while (Heading(driver).StartsWith("Task ", StringComparison.Ordinal))
        {
            var id = Heading(driver)["Task ".Length..];
            AndWait(driver, () => answer(id));
            done.Add(id);
            Assert.Contains($"Saved your answer to task {id}.", driver.FindElement(By.TagName("main")).Text);
        }
        Assert.Equal("All done", Heading(driver));
        return done;
    }

    static void Click(IWebDriver driver, string css) => driver.FindElement(By.CssSelector(css)).Click();

    static void Submit(IWebDriver driver) => Click(driver, "button.primary");

    /// <summary>Keyboard answers of annotator 1 and mouse answers of annotator 2 per mode.</summary>
    static (Action<string> Keyboard, Action<string> Mouse) Answers(IWebDriver driver, AnnotationMode mode) => mode switch
    {
        AnnotationMode.Pairwise => (
            id => Keys(driver, id switch { "t1" => "a3r" , "t2" => "b1", "t3" => "t", _ => "a1" } + (id == "t1" ? "keyboard <b>reason</b>" + OpenQA.Selenium.Keys.Escape : "") + OpenQA.Selenium.Keys.Enter),
            id =>
            {
                Click(driver, $"input[name=choice][value={(id is "t1" or "t2" or "gold" ? "A" : "tie")}]");
                if (id != "t3") Click(driver, "input[name=strength][value='2']");
                Submit(driver);
            }),
        AnnotationMode.Ranking => (
            id => Keys(driver, (id == "t2" ? "321" : "213") + OpenQA.Selenium.Keys.Enter),
            id =>
            {
                int[] ranks = id == "t3" ? [3, 2, 1] : [2, 1, 3];
                for (int i = 0; i < 3; i++) Click(driver, $"#rank_{i} option[value='{ranks[i]}']");
                Submit(driver);
            }),
        _ => (
            id => Keys(driver, (id == "t3" ? "34" : "52") + OpenQA.Selenium.Keys.Enter),
            id =>
            {
                Click(driver, $"input[name=rating_0][value='{(id == "t3" ? 3 : 4)}']");
                Click(driver, "input[name=rating_1][value='2']");
                Submit(driver);
            }),
    };

    static AnnotationTask[] Tasks(AnnotationMode mode)
    {
        AnnotationTask Make(string id, bool gold)
        {
            string topic = id == "gold" ? "the tides" : $"topic {id}";
            var good = $"Sure, happy to help with {topic}: here is a clear and careful answer.";
            var bad = $"No. {topic} is boring, ask someone else.";
            var task = new AnnotationTask
            {
                Id = id, Mode = mode, Prompt = $"Please explain {topic} in two sentences.", Category = "browser",
                Responses = mode == AnnotationMode.Ranking ? [good, $"Maybe something about {topic}.", bad] : [good, bad],
            };
            return !gold ? task : task with
            {
                Gold = mode switch
                {
                    AnnotationMode.Pairwise => new AnnotationAnswer { Choice = PairChoice.A, Strength = 1 },
                    AnnotationMode.Ranking => new AnnotationAnswer { Ranks = [1, 2, 3] },
                    _ => new AnnotationAnswer { Ratings = [5, 1] },
                },
            };
        }
        return [Make("t1", false), Make("t2", false), Make("t3", false), Make("gold", true)];
    }

    /// <summary>One project in <paramref name="mode"/>: both annotators' sessions, the admin page, the export; returns the export folder.</summary>
    async Task<string> RunModeAsync(ChromeDriver driver, AnnotationMode mode, bool inspectCommonPages)
    {
        var name = AnnotationModes.Name(mode);
        var store = AnnotationStore.Open(Path.Combine(_dir, $"{name}.db"));
        store.ImportTasks(Tasks(mode));
        store.SaveSettings(new AnnotationSettings { AnnotatorsPerTask = 2, GoldEvery = 0, Guidelines = "Prefer the answer that helps.\n\nBe fair." });
        var (keyboard, mouse) = Answers(driver, mode);
        await using var app = AnnotationApp.Build(new AnnotationServerOptions { Database = store.Path }, ["--urls", "http://127.0.0.1:0"]);
        await app.StartAsync();
        var url = app.Urls.First();

        if (inspectCommonPages)
        {
            driver.Manage().Cookies.DeleteAllCookies();
            driver.Navigate().GoToUrl(url + "/login");
            Inspect(driver, "login");
        }
        SignIn(driver, url, store.Invite("ann1", AnnotatorRole.Annotator));
        Inspect(driver, $"{name}-task");
        Assert.Equal(["t1", "t2", "t3", "gold"], Session(driver, keyboard));
        if (inspectCommonPages)
        {
            Inspect(driver, "done");
            driver.Navigate().GoToUrl(url + "/task/t1");
            Inspect(driver, "answered");
            Assert.Contains("keyboard <b>reason</b>", driver.FindElement(By.CssSelector(".answer-view")).Text); // escaped, shown as text
            AndWait(driver, () => Keys(driver, "g"));
            Assert.Equal("Guidelines", Heading(driver));
            Inspect(driver, "guidelines");
            driver.Navigate().GoToUrl(url + "/admin");
            Assert.Equal("Error 403", Heading(driver));
            Inspect(driver, "error-403");
        }

        Mark("ann1 done");
        SignIn(driver, url, store.Invite("ann2", AnnotatorRole.Annotator));
        Assert.Equal(["t1", "t2", "t3", "gold"], Session(driver, mouse));
        SignIn(driver, url, store.Invite("lead", AnnotatorRole.Admin));
        driver.Navigate().GoToUrl(url + "/admin");
        Assert.Contains("3 tasks complete", driver.PageSource);
        Assert.Contains("Fleiss' κ", driver.PageSource);
        if (inspectCommonPages) Inspect(driver, "admin");

        var labels = store.Snapshot().Labels;
        Assert.Equal(8, labels.Count);
        var export = Path.Combine(_dir, $"{name}-export");
        var (code, output, error) = CliRun("annotate", "export", "--db", store.Path, "--out", export);
        Assert.True(code == CliApp.Success, output + error);
        return export;
    }

    static (int Code, string Out, string Err) CliRun(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        using var o = new StringWriter();
        using var e = new StringWriter();
        Console.SetOut(o);
        Console.SetError(e);
        try { return (CliApp.Run(args), o.ToString(), e.ToString()); }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    [ChromiumFact]
    public async Task Sessions_in_every_mode_through_Chromium_export_to_files_train_learns_from()
    {
        var profile = Directory.CreateTempSubdirectory("rewardkit-chromium-");
        var exports = new Dictionary<AnnotationMode, string>();
        try
        {
            Mark("start");
            using (var driver = StartChromium(profile.FullName))
            {
                Mark("chromium started");
                foreach (var mode in Enum.GetValues<AnnotationMode>())
                {
                    exports[mode] = await RunModeAsync(driver, mode, inspectCommonPages: mode == AnnotationMode.Pairwise);
                    Mark($"{mode} done");
                }
            }
        }
        finally
        {
            try { profile.Delete(recursive: true); } catch (IOException) { } // Chromium may still hold a lock file for a moment.
        }
        Mark("browser done");
        File.WriteAllLines(Path.Combine(_artifacts, "axe-violations.txt"), _violations);
        Assert.DoesNotContain(_violations, v => v.Contains(": critical ", StringComparison.Ordinal));

        // Keyboard (ann1) and mouse (ann2) answers met in the export: t1 A by both, t2 A vs B and t3 tie by both are ties.
        var pairs = Path.Combine(exports[AnnotationMode.Pairwise], "pairs.jsonl");
        var pair = Assert.Single(RewardKit.Data.PreferenceReader.ReadAllPairs(pairs).Pairs);
        Assert.Equal(("t1", "ann1,ann2", 1.0), (pair.Id, pair.Annotator, pair.Weight!.Value));
        Assert.Equal(Math.Round((3 + 2) / 6.0, 6), pair.Margin!.Value);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(exports[AnnotationMode.Pairwise], "ties.jsonl")).Length);

        var model = Path.Combine(_dir, "model");
        var (code, output, error) = CliRun("train", "--data", pairs, "--data", Path.Combine(exports[AnnotationMode.Ranking], "rankings.jsonl"),
            "--data", Path.Combine(exports[AnnotationMode.Rating], "ratings.jsonl"), "--out", model, "--max-steps", "2", "--sft-steps", "0",
            "--batch-size", "4", "--max-length", "48", "--threads", "2", "--seed", "3");
        Assert.True(code == CliApp.Success, output + error);
        Assert.True(File.Exists(Path.Combine(model, "model", "model.safetensors")), output);
        Assert.Contains("trained 2 steps", output + error);

        Mark("trained");
        // The trained model orders the pairwise project's queue.
        (code, output, error) = CliRun("annotate", "import-model", "--db", Path.Combine(_dir, "pairwise.db"), "--model", Path.Combine(model, "model"));
        Assert.True(code == CliApp.Success, output + error);
        SqliteConnection.ClearAllPools();
        Assert.Equal(4, AnnotationStore.Open(Path.Combine(_dir, "pairwise.db")).Model()!.TasksScored);
        Mark("imported");
        File.WriteAllLines(Path.Combine(_artifacts, "timings.txt"), _timings);
    }
}
