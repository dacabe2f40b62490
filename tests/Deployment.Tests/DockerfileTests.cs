using System.Text.RegularExpressions;

namespace Deployment.Tests;

/// <summary>The Dockerfiles, checked without Docker: every path, the restore cache, pinned bases, non-root, entry points.</summary>
public sealed class DockerfileTests
{
    public const string ApiDockerfile = "services/Registration.Api/Dockerfile";
    public const string WorkerDockerfile = "services/Notification.Worker/Dockerfile";
    public const string TestsDockerfile = "tests/Tests.Dockerfile";

    /// <summary>What <c>dotnet restore</c> reads besides the project files.</summary>
    private static readonly string[] RestoreInputs = ["global.json", "Directory.Build.props", "Directory.Packages.props"];

    private static readonly string[] RootUsers = ["root", "0", "0:0"];

    public static TheoryData<string> AllDockerfiles => new() { ApiDockerfile, WorkerDockerfile, TestsDockerfile };

    public static TheoryData<string> ServiceDockerfiles => new() { ApiDockerfile, WorkerDockerfile };

    [Fact]
    public void ComposeBuildsEveryDockerfile()
    {
        var built = ComposeFile.LoadWithDefaults().Services.Values.Select(s => s.Build?.Dockerfile).OfType<string>();

        built.Should().BeEquivalentTo([ApiDockerfile, WorkerDockerfile, TestsDockerfile]);
    }

    [Theory]
    [MemberData(nameof(AllDockerfiles))]
    public void CopySources_ExistInTheBuildContext_AndAreNotDockerIgnored(string path)
    {
        var ignore = DockerIgnore.Load();
        var copies = Dockerfile.Load(path).Stages.SelectMany(stage => stage.Copies).Where(copy => copy.From is null);

        foreach (var copy in copies)
        {
            foreach (var source in copy.Sources.Where(s => s != "."))
            {
                Repository.Exists(source).Should().BeTrue($"{path}:{copy.Line} copies {source} from the repository root");
                ignore.IsIgnored(source).Should().BeFalse($"{path}:{copy.Line} copies {source}, which .dockerignore leaves out of the context");
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllDockerfiles))]
    public void BaseImages_ArePinned_ToTheTargetFrameworksVersion(string path)
    {
        var version = MsBuildProject.TargetFrameworkVersion();

        foreach (var stage in Dockerfile.Load(path).Stages.Where(stage => !stage.BaseIsStage))
        {
            var (image, tag) = ImageReference.Split(stage.BaseImage);
            tag.Should().NotBeNullOrEmpty($"{path} must pin {image} to a tag").And.NotBe("latest");
            if (image.StartsWith("mcr.microsoft.com/dotnet/", StringComparison.Ordinal))
            {
                tag.Should().StartWith(version, $"{path} builds net{version} projects");
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllDockerfiles))]
    public void Restore_RunsOnTheProjectFilesAlone_SoItsLayerIsCached(string path)
    {
        var build = Dockerfile.Load(path).Stages.First(stage => stage.Instructions.Any(IsRestore));
        var beforeRestore = build.Instructions.TakeWhile(instruction => !IsRestore(instruction)).ToArray();
        var restore = build.Instructions.First(IsRestore);
        var copied = beforeRestore.Where(i => i.Keyword is "COPY" or "ADD").Select(DockerCopy.Parse).SelectMany(c => c.Sources).ToArray();
        var target = Regex.Match(restore.Arguments, @"dotnet restore\s+(\S+)").Groups[1].Value;
        var projects = target.EndsWith(".slnx", StringComparison.Ordinal)
            ? MsBuildProject.SolutionProjects()
            : MsBuildProject.Load(target).WithReferencedProjects();

        copied.Should().Contain(RestoreInputs, $"{path}: restore reads them");
        copied.Should().Contain(projects, $"{path}: restoring {target} reads every project it references");
        copied.Should().OnlyContain(
            source => source.EndsWith(".csproj", StringComparison.Ordinal) || RestoreInputs.Contains(source) || source == Repository.SolutionFile,
            $"{path}: copying sources before the restore would rerun it on every code change");
    }

    [Theory]
    [MemberData(nameof(AllDockerfiles))]
    public void FinalStage_RunsAsANonRootUser(string path)
    {
        var user = Dockerfile.Load(path).FinalStage.Instructions.LastOrDefault(i => i.Keyword == "USER")?.Arguments;

        user.Should().NotBeNull($"{path} must not run as root");
        RootUsers.Should().NotContain(user, $"{path} must not run as root");
    }

    [Theory]
    [MemberData(nameof(ServiceDockerfiles))]
    public void ServiceImage_HoldsOnlyThePublishedOutput(string path)
    {
        var dockerfile = Dockerfile.Load(path);
        var final = dockerfile.FinalStage;
        var earlierStages = dockerfile.Stages.Take(dockerfile.Stages.Count - 1).Select(s => s.Name);

        dockerfile.Stages.Should().HaveCountGreaterThan(1, $"{path} is multi-stage: the SDK does not ship");
        final.Copies.Should().NotBeEmpty().And.OnlyContain(copy => earlierStages.Contains(copy.From), "only the build stage's output goes in");
        final.Instructions.Should().NotContain(i => i.Keyword == "RUN", "nothing is built or installed in the runtime image");
        dockerfile.Stages[0].Instructions.Should().Contain(i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ServiceDockerfiles))]
    public void ServiceImage_EntryPointRunsThePublishedAssembly_AndTakesArguments(string path)
    {
        var dockerfile = Dockerfile.Load(path);
        var project = PublishedProject(dockerfile);
        var entrypoint = dockerfile.FinalStage.Instructions.Last(i => i.Keyword == "ENTRYPOINT");

        entrypoint.IsExecForm.Should().BeTrue("in shell form, `docker compose run SERVICE ARGS` would not pass ARGS on");
        entrypoint.Words.Should().Equal("dotnet", $"{project.AssemblyName}.dll");
        dockerfile.FinalStage.Instructions.Should().NotContain(i => i.Keyword == "CMD", "arguments given to `run` must reach the program");
    }

    [Theory]
    [MemberData(nameof(ServiceDockerfiles))]
    public void ServiceImage_RuntimeHasTheSharedFrameworkTheProjectNeeds(string path)
    {
        var dockerfile = Dockerfile.Load(path);
        var project = PublishedProject(dockerfile);
        var (image, _) = ImageReference.Split(dockerfile.FinalStage.BaseImage);

        if (project.NeedsAspNetCore)
        {
            image.Should().Be("mcr.microsoft.com/dotnet/aspnet", $"{project.RelativePath} uses ASP.NET Core");
        }
        else
        {
            image.Should().BeOneOf("mcr.microsoft.com/dotnet/runtime", "mcr.microsoft.com/dotnet/aspnet");
        }
    }

    [Fact]
    public void DockerIgnore_KeepsHostBuildOutputVersionControlAndSecretsOut()
    {
        var ignore = DockerIgnore.Load();

        ignore.IsIgnored("services/Registration.Api/bin/Debug/net10.0/Registration.Api.dll").Should().BeTrue();
        ignore.IsIgnored("tests/Deployment.Tests/obj/project.assets.json").Should().BeTrue();
        ignore.IsIgnored(".git/HEAD").Should().BeTrue();
        ignore.IsIgnored("deploy/.env").Should().BeTrue();
        // The tests image runs these very tests: what they read must stay in the context.
        foreach (var kept in new[] { "deploy/.env.example", "deploy/docker-compose.yml", "architecture.drawio", "docs/architecture.md", "scripts/test.sh", ".editorconfig" })
        {
            ignore.IsIgnored(kept).Should().BeFalse($"{kept} must stay in the build context");
        }
    }

    [Fact]
    public void DockerIgnore_MatchesLikeDocker()
    {
        var ignore = DockerIgnore.Parse("**/bin/\n*.log\n!keep.log\n.git/");

        ignore.IsIgnored("bin/a.dll").Should().BeTrue("**/ matches zero directories too");
        ignore.IsIgnored("src/app/bin/a.dll").Should().BeTrue();
        ignore.IsIgnored("src/binary.cs").Should().BeFalse();
        ignore.IsIgnored("error.log").Should().BeTrue();
        ignore.IsIgnored("keep.log").Should().BeFalse("the last matching pattern wins");
        ignore.IsIgnored("logs/error.log").Should().BeFalse("a pattern without **/ matches at the root only");
    }

    private static bool IsRestore(DockerInstruction instruction) =>
        instruction.Keyword == "RUN" && instruction.Arguments.Contains("dotnet restore", StringComparison.Ordinal);

    private static MsBuildProject PublishedProject(Dockerfile dockerfile)
    {
        var publish = dockerfile.Stages.SelectMany(s => s.Instructions).Single(i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish", StringComparison.Ordinal));
        return MsBuildProject.Load(Regex.Match(publish.Arguments, @"dotnet publish\s+(\S+\.csproj)").Groups[1].Value);
    }
}
