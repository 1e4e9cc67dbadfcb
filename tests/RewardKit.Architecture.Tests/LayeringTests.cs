using System.Reflection;
using ArchUnitNET.Domain;
using ArchUnitNET.Fluent;
using ArchUnitNET.Fluent.Slices;
using ArchUnitNET.Loader;
using ArchUnitNET.xUnit;
using static ArchUnitNET.Fluent.ArchRuleDefinition;
using Assembly = System.Reflection.Assembly;

namespace RewardKit.Architecture.Tests;

/// <summary>
/// The layering of the projects, read from the compiled assemblies: the engine (RewardKit.Tensors) and the tokenizers
/// (RewardKit.Text) at the bottom, depending on nothing of ours; the domain library (RewardKit) on those two; the server
/// on the domain; the benchmarks on the domain and the server; the CLI on all of them. Nothing below depends on anything above.
/// </summary>
public class LayeringTests
{
    static readonly Assembly Tensors = typeof(RewardKit.Tensors.Tensor).Assembly;
    static readonly Assembly Text = typeof(RewardKit.Text.ByteLevelBpeTokenizer).Assembly;
    static readonly Assembly Domain = typeof(RewardKit.Models.GptConfig).Assembly;
    static readonly Assembly Server = typeof(RewardKit.Server.RewardServerOptions).Assembly;
    static readonly Assembly Benchmarks = typeof(RewardKit.Benchmarks.RewardModelBench).Assembly;
    static readonly Assembly Cli = typeof(RewardKit.Cli.CliApp).Assembly;
    static readonly Assembly[] Ours = [Tensors, Text, Domain, Server, Benchmarks, Cli];

    static readonly ArchUnitNET.Domain.Architecture All = new ArchLoader().LoadAssemblies(Ours).Build();

    public static TheoryData<string, string[]> Allowed => new()
    {
        { Tensors.GetName().Name!, [] },
        { Text.GetName().Name!, [] },
        { Domain.GetName().Name!, [Tensors.GetName().Name!, Text.GetName().Name!] },
        { Server.GetName().Name!, [Domain.GetName().Name!, Tensors.GetName().Name!, Text.GetName().Name!] },
        { Benchmarks.GetName().Name!, [Server.GetName().Name!, Domain.GetName().Name!, Tensors.GetName().Name!, Text.GetName().Name!] },
    };

    [Theory]
    [MemberData(nameof(Allowed))]
    public void Each_project_depends_only_on_the_projects_below_it(string project, string[] allowed)
    {
        var forbidden = Ours.Where(a => a.GetName().Name != project && !allowed.Contains(a.GetName().Name)).ToArray();
        IArchRule rule = Types().That().ResideInAssembly(Ours.Single(a => a.GetName().Name == project))
            .Should().NotDependOnAny(Types().That().ResideInAssembly(forbidden[0], forbidden[1..]))
            .Because($"{project} may use only {(allowed.Length == 0 ? "the framework and packages" : string.Join(", ", allowed))}");
        rule.Check(All);
    }

    [Fact]
    public void The_project_references_match_the_layering()
    {
        // The compiled references, so that a reference nobody uses yet cannot hide an inverted layer.
        string[] Refs(Assembly a) => a.GetReferencedAssemblies().Select(r => r.Name!).Where(n => n.StartsWith("RewardKit", StringComparison.Ordinal)).Order().ToArray();
        Assert.Empty(Refs(Tensors));
        Assert.Empty(Refs(Text));
        Assert.Equal(["RewardKit.Tensors", "RewardKit.Text"], Refs(Domain));
        Assert.DoesNotContain("RewardKit.Benchmarks", Refs(Server));
        Assert.DoesNotContain("RewardKit.Cli", Refs(Server));
    }
}

/// <summary>
/// The top-level namespaces of the domain library (Data, Models, Inference, Training, Evaluation, Reports, ...; each with
/// its sub-namespaces) form no cycle, so each can be read, tested and changed knowing only what is below it.
/// </summary>
public class NamespaceCycleTests
{
    static readonly ArchUnitNET.Domain.Architecture DomainOnly =
        new ArchLoader().LoadAssemblies(typeof(RewardKit.Models.GptConfig).Assembly).Build();

    [Fact]
    public void The_domain_namespaces_form_no_cycle() =>
        SliceRuleDefinition.Slices().Matching("RewardKit.(*)..").Should().BeFreeOfCycles().Check(DomainOnly);

    [Theory]
    [InlineData("RewardKit.Models", "RewardKit.Inference")]
    [InlineData("RewardKit.Reports", "RewardKit.Evaluation")]
    [InlineData("RewardKit.Training", "RewardKit.Inference.Registry")]
    [InlineData("RewardKit.Inference", "RewardKit.Benchmarks")]
    public void A_lower_namespace_does_not_use_a_higher_one(string lower, string higher) =>
        Types().That().ResideInNamespaceOrBelow(lower)
            .Should().NotDependOnAny(Types().That().ResideInNamespaceOrBelow(higher))
            .Check(DomainOnly);
}
