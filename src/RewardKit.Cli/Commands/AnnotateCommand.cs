using System.CommandLine;
using Microsoft.Extensions.Hosting;
using RewardKit.Annotation;
using RewardKit.Inference;
using RewardKit.Server.Annotation;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit annotate</c>: collect human feedback (serve the annotation app, invite, export, import a model).</summary>
public static class AnnotateCommand
{
    /// <summary>Builds the <c>annotate</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var command = new Command("annotate", "Collect human feedback: an annotation web app for pairs, rankings and ratings, and its export for `train`.");
        command.Subcommands.Add(Serve());
        command.Subcommands.Add(Invite());
        command.Subcommands.Add(Export());
        command.Subcommands.Add(ImportModel());
        return command;
    }

    static Option<string> DbOption() => new("--db") { Description = "The annotation database (SQLite; created by `annotate serve`).", Required = true };

    /// <summary>Opens an existing database (export and import-model never create one by mistake).</summary>
    static AnnotationStore OpenExisting(string path) =>
        File.Exists(path) ? AnnotationStore.Open(path)
        : throw new UserErrorException($"{path}: no annotation database there; create it with `rewardkit annotate serve --tasks tasks.jsonl --db {path}`.");

    static Command Serve()
    {
        var db = DbOption();
        var tasks = new Option<string>("--tasks") { Description = "Tasks to add (JSONL: id, prompt, responses, optional mode, category, gold); tasks already in the database are kept." };
        var urls = new Option<string>("--urls") { Description = "Listen address (default http://127.0.0.1:8080).", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var mode = new Option<string>("--mode") { Description = "Mode of tasks without a 'mode' field: pairwise, ranking or rating. Default pairwise.", DefaultValueFactory = _ => "pairwise" };
        var k = new Option<int?>("--annotators-per-task", "--k") { Description = "How many annotators label each task (kept in the database). Default 3." };
        var goldEvery = new Option<int?>("--gold-every") { Description = "Every n-th task an annotator gets is an unseen gold question (0 = gold last). Default 5." };
        var guidelines = new Option<string>("--guidelines") { Description = "A text file shown on the guidelines page (blank lines separate paragraphs)." };
        var model = new Option<string>("--model") { Description = "A reward model folder: order the queue by its uncertainty (as `annotate import-model`)." };
        var rate = new Option<int>("--rate-limit") { Description = "Requests per minute per invite token (429 beyond). Default 120.", DefaultValueFactory = _ => 120 };
        var command = new Command("serve", "Serve the annotation app: sign-in with invite tokens, the queue, the guidelines and the admin page.")
            { db, tasks, urls, mode, k, goldEvery, guidelines, model, rate };
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(db)!;
            var store = AnnotationStore.Open(path);
            if (parse.GetValue(tasks) is { } file)
            {
                var import = store.ImportTasks(TaskFile.Read(file, TaskFile.ParseMode(parse.GetValue(mode)!, "--mode"), ct));
                Console.Error.WriteLine($"{file}: {import.Added} tasks added, {import.Unchanged} already in {path}");
            }
            if (store.Tasks().Count == 0) throw new UserErrorException($"{path} has no tasks; add them with --tasks tasks.jsonl.");
            var settings = store.Settings();
            store.SaveSettings(settings with
            {
                AnnotatorsPerTask = parse.GetValue(k) ?? settings.AnnotatorsPerTask,
                GoldEvery = parse.GetValue(goldEvery) ?? settings.GoldEvery,
                Guidelines = parse.GetValue(guidelines) is { } g ? File.ReadAllText(g) : settings.Guidelines,
            });
            if (parse.GetValue(model) is { } dir) ImportModel(store, dir, ct);
            if (!store.Annotators().Any(a => a.Role == AnnotatorRole.Admin))
                Console.Error.WriteLine($"admin invite token (shown once; invite annotators on /admin or with `annotate invite`): {store.Invite("admin", AnnotatorRole.Admin)}");
            var options = new AnnotationServerOptions { Database = path, RequestsPerMinute = parse.GetValue(rate) };
            await using var app = AnnotationApp.Build(options, ["--urls", parse.GetValue(urls)!]);
            await app.StartAsync(ct);
            Console.Error.WriteLine($"serving annotation on {string.Join(", ", app.Urls)}; Ctrl+C stops.");
            await app.WaitForShutdownAsync(ct);
            return CliApp.Success;
        });
        return command;
    }

    static Command Invite()
    {
        var db = DbOption();
        var id = new Option<string>("--id") { Description = "The annotator id written into exports (letters, digits, _ . : -).", Required = true };
        var admin = new Option<bool>("--admin") { Description = "Give the token the admin role (admin page, invites)." };
        var command = new Command("invite", "Create an invite token (printed once; only its sha256 is stored). Re-inviting an id replaces its token.") { db, id, admin };
        command.SetAction(parse =>
        {
            var store = OpenExisting(parse.GetValue(db)!);
            var token = store.Invite(parse.GetValue(id)!, parse.GetValue(admin) ? AnnotatorRole.Admin : AnnotatorRole.Annotator);
            Console.WriteLine(token);
            Console.Error.WriteLine($"invite token for {parse.GetValue(id)} above: give it to them privately; they paste it on /login.");
            return CliApp.Success;
        });
        return command;
    }

    static Command Export()
    {
        var db = DbOption();
        var outDir = new Option<string>("--out") { Description = "Output folder: pairs.jsonl, ties.jsonl, rankings.jsonl, ratings.jsonl, annotations.jsonl, summary.json.", Required = true };
        var command = new Command("export", "Write the labels in the formats `train` reads, with margin and weight from agreement and annotator ids.") { db, outDir };
        command.SetAction((parse, ct) =>
        {
            var s = AnnotationExport.Write(OpenExisting(parse.GetValue(db)!), parse.GetValue(outDir)!, ct);
            Console.WriteLine($"exported to {s.Directory}: {s.Pairs} pairs, {s.Ties} ties, {s.Rankings} rankings, {s.Ratings} rated responses; {s.Labels} labels in annotations.jsonl");
            Console.WriteLine($"not exported: {s.Unlabelled} tasks without labels, {s.GoldLeftOut} gold questions; {s.BelowK} exported tasks have fewer than k labels");
            if (s.TrainingFiles.Count > 0)
                Console.WriteLine($"train with: rewardkit train {string.Join(' ', s.TrainingFiles.Select(f => "--data " + f))} --out MODEL_DIR");
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }

    static Command ImportModel()
    {
        var db = DbOption();
        var model = ScoringCli.ModelOption();
        var command = new Command("import-model", "Score every task with a reward model; the queue then serves the least certain tasks first (a running server picks it up).") { db, model };
        command.SetAction((parse, ct) =>
        {
            ImportModel(OpenExisting(parse.GetValue(db)!), parse.GetValue(model)!, ct);
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }

    static void ImportModel(AnnotationStore store, string directory, CancellationToken ct)
    {
        using var model = ScoringCli.Load(directory);
        var scorer = new RewardScorer(model);
        int total = store.Tasks().Count;
        var info = ActiveLearning.ImportModel(store, scorer, directory, new ScoringProgress(total), ct);
        Console.Error.WriteLine();
        Console.WriteLine($"{info.TasksScored} tasks scored by {info.Name} {info.Version}; the queue now serves the least certain first.");
    }

    /// <summary>Prints "scoring tasks: n/total" in place, on the scoring thread (so it never trails the summary line).</summary>
    sealed class ScoringProgress(int total) : IProgress<int>
    {
        public void Report(int value) => Console.Error.Write($"\rscoring tasks: {value}/{total} ");
    }
}
