using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Deployment.Tests;

/// <summary>
/// architecture.drawio (diagrams.net) and its Mermaid twin in docs/architecture.md: both parse,
/// both name every component, and both agree with the queues and exchanges MassTransit creates.
/// </summary>
public sealed class ArchitectureDiagramTests
{
    public const string DrawioPath = "architecture.drawio";
    public const string MarkdownPath = "docs/architecture.md";

    private static readonly Lazy<Drawio> Diagram = new(() => Drawio.Load(DrawioPath));

    private static readonly string[] ServiceAssemblies = ["Registration.Api", "Notification.Worker"];

    public static TheoryData<string> Components => new()
    {
        "Client",
        "Registration.Api",
        "PostgreSQL",
        "users",
        "activation_codes",
        "outbox_messages",
        "Outbox dispatcher",
        "RabbitMQ",
        "exchange",
        "queue",
        "_error",
        "Notification.Worker",
        "Polly",
        "Email provider",
        "Mailjet",
        "Mailpit",
        "dead-letters list",
        "dead-letters replay",
        "ExpiredBeforeDeliveryConsumer",
        "Operator",
    };

    public static TheoryData<string> EdgeLabels => new()
    {
        "HTTP",
        "one transaction",
        "LISTEN/NOTIFY",
        "publish (confirmed)",
        "consume",
        "Polly retries",
        "_error",
        "dead-letters replay",
        "ActivationCodeExpiredBeforeDelivery",
    };

    [Fact]
    public void Drawio_IsAnUncompressedMxfile_WithTheRootCells()
    {
        var document = XDocument.Load(Repository.PathOf(DrawioPath));

        document.Root!.Name.LocalName.Should().Be("mxfile");
        var diagram = document.Root.Elements("diagram").Should().ContainSingle().Subject;
        var model = diagram.Element("mxGraphModel");
        model.Should().NotBeNull("the diagram is stored uncompressed, so that its diffs can be reviewed");
        var cells = model!.Element("root")!.Elements("mxCell").ToArray();
        cells.Should().Contain(c => (string?)c.Attribute("id") == "0" && c.Attribute("parent") == null);
        cells.Should().Contain(c => (string?)c.Attribute("id") == "1" && (string?)c.Attribute("parent") == "0");
    }

    [Fact]
    public void Drawio_CellsReferenceCellsThatExist()
    {
        var cells = Diagram.Value.Cells;
        var byId = cells.ToDictionary(c => c.Id);

        cells.Select(c => c.Id).Should().OnlyHaveUniqueItems();
        foreach (var cell in cells.Where(c => c.Id != "0"))
        {
            byId.Should().ContainKey(cell.Parent ?? string.Empty, $"cell {cell.Id}'s parent must exist");
        }

        foreach (var edge in cells.Where(c => c.IsEdge))
        {
            byId.Should().ContainKey(edge.Source ?? string.Empty, $"edge {edge.Id} starts at a cell");
            byId.Should().ContainKey(edge.Target ?? string.Empty, $"edge {edge.Id} ends at a cell");
            byId[edge.Source!].IsVertex.Should().BeTrue();
            byId[edge.Target!].IsVertex.Should().BeTrue();
            edge.Text.Should().NotBeNullOrWhiteSpace($"edge {edge.Id} ({edge.Source} -> {edge.Target}) says what flows");
        }
    }

    [Fact]
    public void Drawio_BoxesDoNotOverlap_AndStayInsideTheirContainers()
    {
        var vertices = Diagram.Value.Cells.Where(c => c.IsVertex).ToArray();
        var byId = vertices.ToDictionary(c => c.Id);

        foreach (var siblings in vertices.GroupBy(c => c.Parent))
        {
            var boxes = siblings.ToArray();
            for (var i = 0; i < boxes.Length; i++)
            {
                for (var j = i + 1; j < boxes.Length; j++)
                {
                    boxes[i].Bounds.IntersectsWith(boxes[j].Bounds).Should().BeFalse($"{boxes[i].Id} and {boxes[j].Id} overlap");
                }
            }
        }

        foreach (var child in vertices.Where(c => c.Parent is not null && byId.ContainsKey(c.Parent)))
        {
            var container = byId[child.Parent!];
            var inside = new Box(0, container.HeaderHeight, container.Bounds.Width, container.Bounds.Height - container.HeaderHeight);
            inside.Contains(child.Bounds).Should().BeTrue($"{child.Id} must sit inside {container.Id}, below its title");
        }
    }

    [Theory]
    [MemberData(nameof(Components))]
    public void Drawio_NamesTheComponent(string component)
    {
        Diagram.Value.Cells.Where(c => c.IsVertex).Should().Contain(c => Names(c.Text, component), $"a box names {component}");
    }

    [Theory]
    [MemberData(nameof(EdgeLabels))]
    public void Drawio_LabelsTheFlow(string label)
    {
        Diagram.Value.Cells.Where(c => c.IsEdge).Should().Contain(c => Names(c.Text, label), $"an arrow says {label}");
    }

    [Fact]
    public void Markdown_HasOneMermaidFlowchart()
    {
        MermaidBlocks().Should().ContainSingle().Which.TrimStart().Should().StartWith("flowchart");
    }

    [Theory]
    [MemberData(nameof(Components))]
    public void Mermaid_NamesTheComponent(string component)
    {
        Names(MermaidBlocks().Single(), component).Should().BeTrue($"the Mermaid diagram names {component}");
    }

    [Theory]
    [MemberData(nameof(EdgeLabels))]
    public void Mermaid_LabelsTheFlow(string label)
    {
        var labels = Regex.Matches(MermaidBlocks().Single(), @"(?:--|-\.)\s*""([^""]*)""").Select(m => m.Groups[1].Value);

        labels.Should().Contain(text => Names(text, label), $"an arrow says {label}");
    }

    [Fact]
    public void Diagrams_NameTheQueuesAndExchangesMassTransitCreates()
    {
        // SetKebabCaseEndpointNameFormatter: a queue per consumer, named after it without "Consumer";
        // faults go to "<queue>_error". Publishing creates an exchange per message type, "Namespace:Type".
        var queues = ServiceAssemblies
            .Select(Assembly.Load)
            .SelectMany(AssemblyTypes.Of)
            .Where(IsConsumer)
            .Select(type => KebabCase(type.Name.EndsWith("Consumer", StringComparison.Ordinal) ? type.Name[..^"Consumer".Length] : type.Name))
            .ToArray();
        var exchanges = AssemblyTypes.Of(Assembly.Load("Registration.Contracts"))
            // Message records; a static class of constants (abstract and sealed) is no message.
            .Where(type => type is { IsPublic: true, IsClass: true, IsAbstract: false, Namespace: "Registration.Contracts.V1" })
            .Select(type => $"{type.Namespace}:{type.Name}")
            .ToArray();
        var drawio = string.Join('\n', Diagram.Value.Cells.Select(c => c.Text.Replace(": ", ":", StringComparison.Ordinal)));
        var mermaid = MermaidBlocks().Single();

        queues.Should().NotBeEmpty();
        exchanges.Should().NotBeEmpty();
        foreach (var name in queues.SelectMany(queue => new[] { queue, $"{queue}_error" }).Concat(exchanges))
        {
            drawio.Should().Contain(name, $"{DrawioPath} must show {name}");
            mermaid.Should().Contain(name, $"{MarkdownPath} must show {name}");
        }
    }

    /// <summary>The text names the term on its own: "users" is not named by "/v1/users".</summary>
    private static bool Names(string text, string term) =>
        Regex.IsMatch(text, $@"(?<![\w/]){Regex.Escape(term)}(?![\w/])");

    private static bool IsConsumer(Type type) =>
        type is { IsClass: true, IsAbstract: false }
        && type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition().FullName == "MassTransit.IConsumer`1");

    private static string KebabCase(string name)
    {
        var result = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                result.Append('-');
            }

            result.Append(char.ToLowerInvariant(name[i]));
        }

        return result.ToString();
    }

    private static string[] MermaidBlocks() =>
        Regex.Matches(Repository.ReadText(MarkdownPath), @"^```mermaid\s*\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)
            .Select(m => m.Groups[1].Value)
            .ToArray();

    /// <summary>The cells of the first diagram, with their text as a reader sees it (HTML labels flattened).</summary>
    private sealed record Drawio(IReadOnlyList<DrawioCell> Cells)
    {
        public static Drawio Load(string relativePath)
        {
            var root = XDocument.Load(Repository.PathOf(relativePath)).Root!.Element("diagram")!.Element("mxGraphModel")!.Element("root")!;
            return new Drawio(root.Elements("mxCell").Select(DrawioCell.From).ToArray());
        }
    }

    private sealed record DrawioCell(string Id, string? Parent, string Text, bool IsVertex, bool IsEdge, string? Source, string? Target, Box Bounds, double HeaderHeight)
    {
        public static DrawioCell From(XElement cell)
        {
            var geometry = cell.Element("mxGeometry");
            var style = (string?)cell.Attribute("style") ?? string.Empty;
            var isVertex = (string?)cell.Attribute("vertex") == "1";
            var startSize = Regex.Match(style, @"(?:^|;)startSize=(\d+)");
            var isContainer = style.Contains("swimlane", StringComparison.Ordinal);
            return new DrawioCell(
                (string)cell.Attribute("id")!,
                (string?)cell.Attribute("parent"),
                PlainText((string?)cell.Attribute("value") ?? string.Empty),
                isVertex,
                (string?)cell.Attribute("edge") == "1",
                (string?)cell.Attribute("source"),
                (string?)cell.Attribute("target"),
                new Box(Number(geometry, "x"), Number(geometry, "y"), Number(geometry, "width"), Number(geometry, "height")),
                isContainer && startSize.Success ? double.Parse(startSize.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
        }

        private static double Number(XElement? geometry, string name) =>
            double.Parse((string?)geometry?.Attribute(name) ?? "0", CultureInfo.InvariantCulture);

        private static string PlainText(string html)
        {
            var text = Regex.Replace(html, @"<br\s*/?>", " ", RegexOptions.IgnoreCase);
            text = Regex.Replace(text, "<[^>]+>", string.Empty);
            return Regex.Replace(WebUtility.HtmlDecode(text), @"\s+", " ").Trim();
        }
    }

    private sealed record Box(double X, double Y, double Width, double Height)
    {
        public bool IntersectsWith(Box other) =>
            X < other.X + other.Width && other.X < X + Width && Y < other.Y + other.Height && other.Y < Y + Height;

        public bool Contains(Box other) =>
            other.X >= X && other.Y >= Y && other.X + other.Width <= X + Width && other.Y + other.Height <= Y + Height;
    }
}
