using System.Globalization;

namespace Registration.Bench;

/// <summary>A plain-text table printed with aligned columns (also valid Markdown).</summary>
public sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Add(params object[] cells) =>
        _rows.Add(cells.Select(cell => Convert.ToString(cell, CultureInfo.InvariantCulture) ?? "").ToArray());

    public void Print(string title)
    {
        var widths = headers.Select((header, i) => Math.Max(header.Length, _rows.Count == 0 ? 0 : _rows.Max(row => row[i].Length))).ToArray();
        Console.WriteLine();
        Console.WriteLine($"### {title}");
        Console.WriteLine();
        Console.WriteLine("| " + string.Join(" | ", headers.Select((h, i) => h.PadRight(widths[i]))) + " |");
        Console.WriteLine("|" + string.Join("|", widths.Select(w => new string('-', w + 2))) + "|");
        foreach (var row in _rows)
        {
            Console.WriteLine("| " + string.Join(" | ", row.Select((c, i) => c.PadLeft(widths[i]))) + " |");
        }
    }
}
