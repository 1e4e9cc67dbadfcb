using Microsoft.Data.Sqlite;
using RewardKit.Annotation;
using static RewardKit.Testing.AnnotationTestData;

namespace RewardKit.Cli.Tests;

/// <summary>The <c>annotate</c> verbs through <see cref="CliApp.Run"/> (the browser and durability tests run `serve`).</summary>
[Collection(ConsoleCollection.Name)]
public sealed class AnnotateCommandTests : IDisposable
{
    readonly string _dir = TempFolder("cli-annotate");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    string P(string name) => Path.Combine(_dir, name);

    static (int Code, string Out, string Err) Run(params string[] args)
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

    [Fact]
    public void Invite_prints_a_token_that_signs_in_and_export_prints_the_train_command()
    {
        var store = AnnotationStore.Open(P("a.db"));
        store.ImportTasks([Pair("t0"), Pair("t1")]);
        store.SaveSettings(new AnnotationSettings { AnnotatorsPerTask = 1 });
        var (code, output, _) = Run("annotate", "invite", "--db", P("a.db"), "--id", "alice");
        Assert.Equal(CliApp.Success, code);
        var token = output.Trim();
        Assert.Equal("alice", store.FindAnnotator(token)!.Id);
        store.NextTask("alice");
        store.Submit("t0", "alice", Choose(PairChoice.B), null);

        (code, output, _) = Run("annotate", "export", "--db", P("a.db"), "--out", P("out"));
        Assert.Equal(CliApp.Success, code);
        Assert.Contains("1 pairs, 0 ties, 0 rankings, 0 rated responses; 1 labels", output);
        Assert.Contains("not exported: 1 tasks without labels", output);
        Assert.Contains($"train with: rewardkit train --data {P("out/pairs.jsonl")} --out MODEL_DIR", output);
    }

    [Theory]
    [InlineData("export", "--out", "x")]
    [InlineData("import-model", "--model", "x")]
    [InlineData("invite", "--id", "bob")]
    public void A_missing_database_is_a_user_error_that_says_how_to_create_it(string verb, string flag, string value)
    {
        var (code, _, error) = Run("annotate", verb, "--db", P("none.db"), flag, value);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("no annotation database there; create it with `rewardkit annotate serve --tasks tasks.jsonl", error);
        Assert.False(File.Exists(P("none.db")));
    }

    [Fact]
    public void Serve_refuses_a_bad_tasks_file_or_an_empty_project_before_listening()
    {
        File.WriteAllLines(P("tasks.jsonl"), ["{\"id\": \"t0\", \"prompt\": \"q\", \"responses\": [\"a\", \"b\", \"c\"]}"]);
        var (code, _, error) = Run("annotate", "serve", "--tasks", P("tasks.jsonl"), "--db", P("s.db"), "--urls", "http://127.0.0.1:0");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("tasks.jsonl:1: a pairwise task has exactly 2 responses", error);
        (code, _, error) = Run("annotate", "serve", "--db", P("s.db"), "--urls", "http://127.0.0.1:0");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("has no tasks; add them with --tasks tasks.jsonl", error);
        (code, _, error) = Run("annotate", "serve", "--tasks", P("tasks.jsonl"), "--db", P("s.db"), "--mode", "ranking", "--k", "0");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("annotators per task (--k) is 0", error);
    }

    [Fact]
    public void Import_model_of_a_folder_that_is_not_a_model_is_a_user_error()
    {
        AnnotationStore.Open(P("m.db")).ImportTasks([Pair("t0")]);
        Directory.CreateDirectory(P("not-a-model"));
        var (code, _, error) = Run("annotate", "import-model", "--db", P("m.db"), "--model", P("not-a-model"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("not-a-model", error);
        Assert.DoesNotContain("   at ", error);
    }
}
